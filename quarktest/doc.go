// Package quarktest is Quark's test kit: a fake Clock that tests advance by
// hand, and an in-memory Network that carries transport frames between named
// hosts, with faults a test scripts.
//
// A silo given the Clock with quark.WithClock runs idle collection, actor
// timers and reminders off that clock, so tests of them run without sleeping
// and assert exact times. Work that falls due runs inside Advance (or Set);
// a timer or reminder tick it posts is then delivered to its actor as usual,
// asynchronously.
//
//	clk := quarktest.NewClock(time.Unix(0, 0))
//	silo, _ := quark.NewSilo(quark.WithClock(clk))
//	...
//	clk.Advance(20 * time.Minute) // the collector, timers and reminders run inside Advance
//
// The Network implements transport.Transport once per host (Network.Host)
// and carries the same encoded bytes a network transport carries: Send
// copies each frame, and each direction of a connection is a FIFO queue
// with its own delivery goroutine. Faults apply between hosts, decided when
// a frame is sent: Partition and Heal, Drop and Duplicate (with a matcher
// and a count), Delay (on the Clock), and Break (a reset); Stats counts
// what each direction sent, delivered and lost.
//
//	net := quarktest.NewNetwork(clk)
//	defer net.Close() // ends every connection and goroutine
//	l, _ := net.Host("silo1").Listen("", accept) // bound at "silo1"
//	conn, _ := net.Host("client").Dial(ctx, "silo1", handler)
//	net.Drop("silo1", "client", isResponse, 1) // lose the next response
//	net.Delay("client", "silo1", time.Second)  // hold requests until clk.Advance
//	net.Partition("silo1", "silo2")            // until net.Heal("silo1", "silo2")
//
// A whole cluster runs in one process on a Network: give each silo
// quark.WithTransport(net.Host(name)), quark.WithListenAddress(name) and
// quark.WithStaticCluster(names...), and a client
// quark.WithTransport(net.Host("client")) (see quark's ExampleNewClient).
package quarktest
