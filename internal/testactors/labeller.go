package testactors

import (
	"context"
	"errors"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Label is a name that crosses the wire as text. The empty label has no
// text form: encoding it fails, which is what tests of encoding failures
// need from it.
type Label string

// MarshalText returns the label, or an error for the empty label.
func (l Label) MarshalText() ([]byte, error) {
	if l == "" {
		return nil, errors.New("the empty label has no text form")
	}
	return []byte(l), nil
}

// UnmarshalText accepts any label but the empty one.
func (l *Label) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New("the empty label has no text form")
	}
	*l = Label(b)
	return nil
}

// Labeller passes values whose encoding can fail: a Label (empty, its
// MarshalText fails) and a protocol buffer message (a string field holding
// invalid UTF-8, proto.Marshal fails). What each method returns is up to the
// test's implementation.
//
//quark:actor
type Labeller interface {
	// Relabel returns a label made from l.
	Relabel(ctx context.Context, l Label) (Label, error)
	// Wrap returns a message made from v.
	Wrap(ctx context.Context, v *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	// Post takes l without the caller waiting.
	//
	//quark:oneway
	Post(ctx context.Context, l Label) error
}

// LabelState is durable state whose encoding fails while its Name is the
// empty Label.
//
//quark:codec
type LabelState struct {
	Name  Label
	Count int64
}
