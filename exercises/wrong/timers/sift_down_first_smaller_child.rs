// mistake: sifting down swaps with the first child that fires earlier, not with the earlier of the two children
// region: sift_down
loop {
    let left = 2 * position + 1;
    let right = left + 1;
    let first = if left < self.order.len() && self.less(left, position) {
        left
    } else if right < self.order.len() && self.less(right, position) {
        right
    } else {
        break;
    };
    self.swap(position, first);
    position = first;
}
