// mistake: sifting down looks only at the left child
// region: sift_down
loop {
    let left = 2 * position + 1;
    if left < self.order.len() && self.less(left, position) {
        self.swap(position, left);
        position = left;
    } else {
        break;
    }
}
