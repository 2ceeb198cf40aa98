package multi

// Nothing here is an actor.
func useless() {}
