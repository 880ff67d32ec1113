export * from './codes.js';
export * from './close-hint.js';
export * from './frames.js';
export * from './codec.js';
export * from './delivery-frames.js';
export * from './delivery-codec.js';
export * from './channel-name.js';
export type * from './channel-map.js';
