// mistake: pop takes the outermost frame (the front of the Vec), not the innermost one
// region: pop
if self.frames.is_empty() {
    None
} else {
    Some(self.frames.remove(0))
}
