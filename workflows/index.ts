// Every workflow the worker registers. Deterministic code only (see eslint.config.mjs).
export { processOrder, statusQuery, cancelUpdate, amendUpdate } from './order';
export type { ProcessOrderInput } from './order';
