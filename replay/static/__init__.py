"""Built browser assets (snippet and player), written by js-snippet/build.mjs."""
