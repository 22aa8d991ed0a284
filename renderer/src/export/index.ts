export * from './format';
export * from './manifest';
export * from './svg';
export * from './table';
export * from './reports';
export * from './png';
export * from './save';
