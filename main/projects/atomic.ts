/** The project store's atomic writes: the one writer lives in workers/io/atomic.ts (runs use it too). */
export * from '../../workers/io/atomic.js';
