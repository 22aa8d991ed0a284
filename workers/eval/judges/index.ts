export * from './types.js';
export * from './substring.js';
export * from './prompts.js';
export * from './cache.js';
export * from './http.js';
export * from './model.js';
export * from './factory.js';
export * from './classifier-http.js';
