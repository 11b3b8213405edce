// gzip through the browser's CompressionStream, where there is one.

export const canGzip = () => typeof CompressionStream === 'function';

const pipe = (blob, stream) => new Response(blob.stream().pipeThrough(stream));

/** gzip of a string, as an ArrayBuffer. */
export const gzip = (text) => pipe(new Blob([text]), new CompressionStream('gzip')).arrayBuffer();

/** The text inside gzip bytes. */
export const gunzip = (bytes) => pipe(new Blob([bytes]), new DecompressionStream('gzip')).text();
