export * from './schema.js';
export * from './errors.js';
export * from './csv.js';
export * from './json.js';
export * from './import.js';
export * from './ops.js';
export * from './builtin.js';
