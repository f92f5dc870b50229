"""Pure, vectorised spatial engines (空间引擎): frames in, frames out."""
