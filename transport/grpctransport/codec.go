package grpctransport

import (
	"sync"

	"google.golang.org/grpc/mem"
)

// codec carries stream messages as raw bytes, without protobuf: a sent
// message is a *[]byte holding a batch, taken from batchPool; a received
// one is an *inbound that keeps a reference to gRPC's buffers.
type codec struct{}

func (codec) Name() string { return "quarkframes" }

// Marshal hands the batch to gRPC without copying. gRPC may still hold it
// after SendMsg returns (it is written later by its own writer); it
// returns it to batchPool through the buffer's Free when it is done, and
// only then may the batch be reused.
func (codec) Marshal(v any) (mem.BufferSlice, error) {
	p := v.(*[]byte)
	return mem.BufferSlice{mem.NewBuffer(p, batchPool)}, nil
}

// Unmarshal keeps a reference to data, which the receive loop frees once
// it has handed the frames to the Handler: no copy.
func (codec) Unmarshal(data mem.BufferSlice, v any) error {
	data.Ref()
	v.(*inbound).data = data
	return nil
}

type inbound struct{ data mem.BufferSlice }

// minBatchCap is the smallest batch buffer: above gRPC's pooling
// threshold (1 KiB), below which gRPC never frees a buffer back to its
// pool.
const minBatchCap = 4 << 10

// batches is the mem.BufferPool batches come from and gRPC returns them to.
type batches struct{ p sync.Pool }

var batchPool = &batches{}

// Get returns an empty batch with room for at least n bytes.
func (b *batches) Get(n int) *[]byte {
	if p, ok := b.p.Get().(*[]byte); ok && cap(*p) >= n {
		*p = (*p)[:0]
		return p
	}
	s := make([]byte, 0, max(n, minBatchCap))
	return &s
}

// Put takes back a batch gRPC has finished with. Batches larger than a
// full batch (a single large frame) are left to the garbage collector.
func (b *batches) Put(p *[]byte) {
	if cap(*p) > maxBatch+maxBatch/4 {
		return
	}
	*p = (*p)[:0]
	b.p.Put(p)
}
