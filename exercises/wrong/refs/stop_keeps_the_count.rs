// mistake: stopping a handle clears its flag but leaves it counted
// region: stop
flags.active = false;
