package grpctransport

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
)

// replies routes each echoed frame to the channel of the caller whose
// index its first 4 bytes hold.
type replies struct {
	mu sync.Mutex
	ch []chan struct{}
}

func (r *replies) add() (int, chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := make(chan struct{}, 1)
	r.ch = append(r.ch, c)
	return len(r.ch) - 1, c
}

func (r *replies) Frame(f []byte) {
	i := binary.BigEndian.Uint32(f)
	r.mu.Lock()
	c := r.ch[i]
	r.mu.Unlock()
	c <- struct{}{}
}

func (r *replies) Closed(error) {}

// BenchmarkRoundTrip sends a 100-byte frame and waits for the peer's echo,
// one caller at a time.
func BenchmarkRoundTrip(b *testing.B) {
	r := &replies{}
	ln, c := newEchoPair(b, New(quiet()), r)
	defer ln.Close()
	defer c.Close()
	i, done := r.add()
	frame := make([]byte, 100)
	binary.BigEndian.PutUint32(frame, uint32(i))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Send(frame); err != nil {
			b.Fatal(err)
		}
		<-done
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkRoundTripParallel is BenchmarkRoundTrip with GOMAXPROCS×64
// callers sharing one connection.
func BenchmarkRoundTripParallel(b *testing.B) {
	r := &replies{}
	ln, c := newEchoPair(b, New(quiet()), r)
	defer ln.Close()
	defer c.Close()
	b.ReportAllocs()
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i, done := r.add()
		frame := make([]byte, 100)
		binary.BigEndian.PutUint32(frame, uint32(i))
		for pb.Next() {
			if err := c.Send(frame); err != nil {
				b.Error(err)
				return
			}
			<-done
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(b.N)/float64(c.(*conn).writes.Load()), "frames/write")
}

// counter counts frames and signals when it reaches want.
type counter struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (c *counter) Frame([]byte) {
	if c.n.Add(1) == c.want {
		close(c.done)
	}
}

func (*counter) Closed(error) {}

// BenchmarkOneWay sends 100-byte frames from 4 goroutines, one way, and
// waits for the last to arrive.
func BenchmarkOneWay(b *testing.B) {
	cnt := &counter{done: make(chan struct{})}
	tr := New(quiet())
	ln, err := tr.Listen("127.0.0.1:0", func(c transportConn) transportHandler { return cnt })
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := tr.Dial(b.Context(), ln.Addr(), &counter{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const senders = 4
	cnt.want = int64(b.N)
	b.SetBytes(100)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for s := range senders {
		n := b.N / senders
		if s == 0 {
			n += b.N % senders
		}
		wg.Go(func() {
			frame := make([]byte, 100)
			for range n {
				if err := c.Send(frame); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	<-cnt.done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(b.N)/float64(c.(*conn).writes.Load()), "frames/write")
}
