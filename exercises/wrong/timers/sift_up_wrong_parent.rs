// mistake: the parent of i is taken as i / 2 (the formula of a heap that starts at index 1)
// region: sift_up
while position > 0 {
    let parent = position / 2;
    if !self.less(position, parent) {
        break;
    }
    self.swap(position, parent);
    position = parent;
}
