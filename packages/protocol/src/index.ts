export * from './errors.js';
export * from './limits.js';
export * from './emoji.js';
export * from './objects.js';
export * from './http.js';
export * from './accounts.js';
export * from './profile.js';
export * from './ws.js';
