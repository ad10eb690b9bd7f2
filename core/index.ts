/**
 * core: what every layer shares and nothing depends on (no other layer, no npm package): the error base class,
 * the ImageId type and its parser, the reducers' one definition and the bench result shape. Import it from any layer.
 */
export { BaseError, type BaseErrorOptions } from "./errors.ts";
export { foldReducer, type ReducerName } from "./reducers.ts";
export { parseImageId, isImageId, imageIdToBigInt, imageIdHex, InvalidImageIdError, type ImageId } from "./image-id.ts";
export { geomean, median, percentile, timeMs, opsPerSecond, type Bench, type BenchResult } from "./bench.ts";
