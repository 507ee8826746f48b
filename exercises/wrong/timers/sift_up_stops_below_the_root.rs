// mistake: sifting up stops at index 1, so an entry never reaches the root
// region: sift_up
while position > 1 {
    let parent = (position - 1) / 2;
    if !self.less(position, parent) {
        break;
    }
    self.swap(position, parent);
    position = parent;
}
