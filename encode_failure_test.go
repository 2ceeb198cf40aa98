package quark_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/quarkgo/quark"
	"github.com/quarkgo/quark/internal/testactors"
	"github.com/quarkgo/quark/storage"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// labeller echoes what it is given, or, for the inputs named below, returns
// a value that cannot be encoded. It counts its activations and keeps the
// last posted label.
type labeller struct {
	state  *quark.State[testactors.LabelState]
	posted chan testactors.Label
}

// Inputs that make the labeller return an unencodable result.
const (
	emptyResult   = "give back the empty label"
	invalidResult = "give back invalid UTF-8"
	zeroResult    = "give back the zero note"
)

func (l *labeller) Relabel(ctx context.Context, in testactors.Label) (testactors.Label, error) {
	switch in {
	case emptyResult:
		return "", nil
	case "store":
		// Durable state whose Name is empty cannot be encoded.
		l.state.Value.Name = ""
		l.state.Value.Count++
		if err := l.state.Write(ctx); err != nil {
			return "", err
		}
	}
	return in, nil
}

func (l *labeller) Wrap(_ context.Context, v *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	if v.GetValue() == invalidResult {
		return wrapperspb.String("\xff"), nil
	}
	return v, nil
}

func (l *labeller) Annotate(_ context.Context, n testactors.Note) (testactors.Note, error) {
	if n.Text() == zeroResult {
		return testactors.Note{}, nil
	}
	return n, nil
}

func (l *labeller) Post(_ context.Context, in testactors.Label) error {
	l.posted <- in
	return nil
}

func registerLabeller(created *atomic.Int64, posted chan testactors.Label) func(*quark.Silo) {
	return func(s *quark.Silo) {
		must(testactors.RegisterLabeller(s, func(a *quark.Activation) testactors.Labeller {
			created.Add(1)
			return &labeller{state: quark.NewState[testactors.LabelState](a), posted: posted}
		}))
	}
}

// TestUnencodableValueFailsItsCallOnly: arguments or results that the
// generated encoder cannot encode (a MarshalText, MarshalBinary or
// proto.Marshal that fails) fail that call with CodeInvalidArgument naming
// the method and the cause, on the caller's goroutine, without a panic; the
// activation is not discarded and the next call on it works. The same holds
// for a local call's deep copy, which goes through the methods of a
// marshaler type that holds memory (Note).
func TestUnencodableValueFailsItsCallOnly(t *testing.T) {
	for _, viaCodec := range []bool{true, false} {
		name := "copied"
		if viaCodec {
			name = "encoded"
		}
		t.Run(name, func(t *testing.T) { testUnencodable(t, viaCodec) })
	}
}

func testUnencodable(t *testing.T, viaCodec bool) {
	modes(t, func(t *testing.T, inline bool) {
		var created atomic.Int64
		posted := make(chan testactors.Label, 1)
		s := newSilo(t, registerLabeller(&created, posted), quark.WithInlineCalls(inline), quark.WithCodecRouting(viaCodec),
			quark.WithStore(storage.NewMemory()))
		ref := testactors.NewLabellerRef(s, quark.StringKey("l"))
		ctx := context.Background()
		if got, err := ref.Relabel(ctx, "first"); err != nil || got != "first" {
			t.Fatalf("a good call: %q, %v", got, err)
		}
		cases := []struct {
			name  string
			call  func() error
			wants []string // in the error's text
		}{
			{"binary arguments", func() error { _, err := ref.Annotate(ctx, testactors.Note{}); return err },
				[]string{"Annotate", "arguments", "the zero note has no binary form"}},
			{"binary results", func() error { _, err := ref.Annotate(ctx, testactors.NewNote(zeroResult)); return err },
				[]string{"Annotate", "results", "the zero note has no binary form"}},
		}
		encodedOnly := []struct {
			name  string
			call  func() error
			wants []string
		}{
			{"text arguments", func() error { _, err := ref.Relabel(ctx, ""); return err },
				[]string{"Relabel", "arguments", "the empty label has no text form"}},
			{"text results", func() error { _, err := ref.Relabel(ctx, emptyResult); return err },
				[]string{"Relabel", "results", "the empty label has no text form"}},
			{"proto arguments", func() error { _, err := ref.Wrap(ctx, wrapperspb.String("\xfe")); return err },
				[]string{"Wrap", "arguments", "UTF-8"}},
			{"proto results", func() error { _, err := ref.Wrap(ctx, wrapperspb.String(invalidResult)); return err },
				[]string{"Wrap", "results", "UTF-8"}},
			{"one-way arguments", func() error { return ref.Post(ctx, "") },
				[]string{"Post", "arguments", "the empty label has no text form"}},
		}
		if viaCodec {
			// A Label is a string and a proto message is copied by
			// proto.Clone: neither fails to copy.
			cases = append(cases, encodedOnly...)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				if quark.CodeOf(err) != quark.CodeInvalidArgument {
					t.Fatalf("got %v (code %v), want CodeInvalidArgument", err, quark.CodeOf(err))
				}
				for _, w := range tc.wants {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				// The activation survived and serves the next call.
				if got, err := ref.Relabel(ctx, "next"); err != nil || got != "next" {
					t.Fatalf("the next call: %q, %v", got, err)
				}
				if got, err := ref.Wrap(ctx, wrapperspb.String("ok")); err != nil || got.GetValue() != "ok" {
					t.Fatalf("the next proto call: %v, %v", got, err)
				}
			})
		}
		if n := created.Load(); n != 1 {
			t.Errorf("%d activations, want 1: a failed encoding discarded the activation", n)
		}
		if n := s.Stats().DroppedOneWay; viaCodec && n != 1 {
			t.Errorf("DroppedOneWay = %d, want 1 (the unencodable one-way message)", n)
		}
		// A good one-way message still arrives.
		if err := ref.Post(ctx, "posted"); err != nil {
			t.Fatal(err)
		}
		if got := <-posted; got != "posted" {
			t.Fatalf("posted %q", got)
		}
	})
}

// TestStateWriteOfUnencodableValueFails: State.Write of a value whose
// encoding fails returns CodeInvalidArgument to the method instead of
// panicking in the actor's turn.
func TestStateWriteOfUnencodableValueFails(t *testing.T) {
	var created atomic.Int64
	s := newSilo(t, registerLabeller(&created, make(chan testactors.Label, 1)), quark.WithStore(storage.NewMemory()))
	ref := testactors.NewLabellerRef(s, quark.StringKey("state"))
	_, err := ref.Relabel(context.Background(), "store")
	if quark.CodeOf(err) != quark.CodeInvalidArgument || !strings.Contains(err.Error(), "the empty label has no text form") {
		t.Fatalf("got %v (code %v), want CodeInvalidArgument naming the cause", err, quark.CodeOf(err))
	}
}

// refusingMessage is a message whose arguments never encode or copy; it
// counts its releases.
type refusingMessage struct {
	quark.Envelope
	released int
}

var refusingMethod = quark.MethodDesc{ID: 1, Name: "Refuse"}

func (*refusingMessage) Method() *quark.MethodDesc              { return &refusingMethod }
func (*refusingMessage) Invoke(context.Context, any) error      { return nil }
func (m *refusingMessage) Release()                             { m.released++ }
func (*refusingMessage) ReadArgs([]byte) error                  { return nil }
func (*refusingMessage) ReadResults([]byte) error               { return nil }
func (*refusingMessage) AppendResults(b []byte) ([]byte, error) { return b, nil }
func (*refusingMessage) CopyArgs() error                        { return errors.New("refused") }
func (*refusingMessage) CopyResults() error                     { return nil }
func (*refusingMessage) AppendArgs(b []byte) ([]byte, error) {
	return b, errors.New("refused")
}

// TestUnencodableMessageIsGivenBack: after a call whose arguments cannot be
// encoded (or copied), the runtime holds nothing of the message: the caller
// may reclaim it (and so return it to its pool); a one-way message is
// released once.
func TestUnencodableMessageIsGivenBack(t *testing.T) {
	t.Run("encoded", func(t *testing.T) { testGivenBack(t, true) })
	t.Run("copied", func(t *testing.T) { testGivenBack(t, false) })
}

func testGivenBack(t *testing.T, viaCodec bool) {
	var created atomic.Int64
	s := newSilo(t, registerLabeller(&created, nil), quark.WithCodecRouting(viaCodec))
	ref := quark.NewRef(s, testactors.LabellerType, quark.StringKey("r"))
	ctx := context.Background()

	m := &refusingMessage{}
	if err := ref.Call(ctx, m); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("Call: %v, want CodeInvalidArgument", err)
	}
	if !m.Reclaim() {
		t.Fatal("the runtime kept the message of a call that failed to encode")
	}
	if m.Target() != (quark.ID{}) {
		t.Fatalf("Reclaim left the target %v", m.Target())
	}

	m = &refusingMessage{}
	if err := ref.Send(ctx, m); quark.CodeOf(err) != quark.CodeInvalidArgument {
		t.Fatalf("Send: %v, want CodeInvalidArgument", err)
	}
	if m.released != 1 {
		t.Fatalf("the one-way message was released %d times, want 1", m.released)
	}
	if n := created.Load(); n != 0 {
		t.Fatalf("%d activations for messages that never left the caller", n)
	}
}
