/**
 * tfjs-core alone registers no gradient functions, and its ESM gradient files cannot be imported by
 * plain Node (extensionless imports). The union package registers all of them into tfjs' global
 * registry, in Node (CJS bundle) and under bundlers (ESM) alike; import this before differentiating.
 */
import '@tensorflow/tfjs';
