// mistake: the trace lists the frames outermost first, in the Vec's own order
// region: trace
StackTrace {
    frames: self.frames.clone(),
}
