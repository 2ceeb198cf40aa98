package quark_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/codec"
	"github.com/quarkgo/quark/internal/testactors"
)

// TestOversizedMessageIsInvalidArgument: arguments or results whose
// encoding is larger than WithMaxMessageSize fail the call with
// CodeInvalidArgument wrapping codec.ErrTooLarge. The bytes are a good
// encoding, only too many of them, so the code is not CodeCorrupt.
func TestOversizedMessageIsInvalidArgument(t *testing.T) {
	modes(t, func(t *testing.T, inline bool) {
		big := strings.Repeat("x", 200)
		h := &hooks{run: func(_ context.Context, _ *probe, step string) (string, error) {
			if step == "big result" {
				return big, nil
			}
			return step, nil
		}}
		s := newSilo(t, registerProbes(h), quark.WithInlineCalls(inline), quark.WithCodecRouting(true), quark.WithMaxMessageSize(100))
		ref := testactors.NewProbeRef(s, quark.StringKey("size"))
		ctx := context.Background()
		if got, err := ref.Run(ctx, "small"); err != nil || got != "small" {
			t.Fatalf("a small call: %q, %v", got, err)
		}
		for what, step := range map[string]string{"arguments": big, "results": "big result"} {
			_, err := ref.Run(ctx, step)
			if quark.CodeOf(err) != quark.CodeInvalidArgument || !errors.Is(err, codec.ErrTooLarge) {
				t.Errorf("%s over the maximum: %v (code %v), want CodeInvalidArgument wrapping codec.ErrTooLarge", what, err, quark.CodeOf(err))
			}
		}
	})
}
