package grpctransport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"log/slog"
	"testing"

	"google.golang.org/grpc/mem"
)

// FuzzDeliver feeds arbitrary stream messages to the batch decoder, whole
// and split in two buffers: it never panics, fails only with
// ErrMalformedBatch or ErrFrameTooLarge, and the frames it delivers,
// framed again, are the message (or its prefix up to the error).
func FuzzDeliver(f *testing.F) {
	f.Add([]byte{}, 0)
	f.Add([]byte{0}, 0)
	f.Add([]byte{1, 'a', 2, 'b', 'c'}, 2)
	f.Add([]byte{0x80}, 0)
	f.Add([]byte{0x81, 0x00, 'x'}, 1)
	f.Add([]byte{5, 'a'}, 1)
	f.Add(append([]byte{65}, make([]byte, 65)...), 3)
	f.Fuzz(func(t *testing.T, msg []byte, split int) {
		for _, data := range []mem.BufferSlice{
			{mem.SliceBuffer(msg)},
			splitAt(msg, split),
		} {
			r := newRecorder()
			c := newConn("fuzz", 64, slog.New(slog.DiscardHandler))
			c.h = r
			err := c.deliver(data)
			if err != nil && !errors.Is(err, ErrMalformedBatch) && !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("deliver: %v", err)
			}
			var again []byte
			for _, fr := range r.got() {
				again = binary.AppendUvarint(again, uint64(len(fr)))
				again = append(again, fr...)
			}
			if err == nil && !bytes.Equal(again, msg) || !bytes.HasPrefix(msg, again) {
				t.Fatalf("frames %q framed again are %x, message %x (err %v)", r.got(), again, msg, err)
			}
		}
	})
}

func splitAt(b []byte, at int) mem.BufferSlice {
	if at < 0 || at > len(b) {
		at = len(b) / 2
	}
	return mem.BufferSlice{mem.SliceBuffer(b[:at]), mem.SliceBuffer(b[at:])}
}
