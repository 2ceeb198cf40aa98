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

// Note is a text held by pointer: it holds memory, so a deep copy of it goes
// through its methods. The zero Note has no binary form: encoding or
// copying it fails.
type Note struct{ text *string }

// NewNote returns the note holding text.
func NewNote(text string) Note { return Note{text: &text} }

// Text returns the note's text, or "" for the zero Note.
func (n Note) Text() string {
	if n.text == nil {
		return ""
	}
	return *n.text
}

// MarshalBinary returns the text, or an error for the zero Note.
func (n Note) MarshalBinary() ([]byte, error) {
	if n.text == nil {
		return nil, errors.New("the zero note has no binary form")
	}
	return []byte(*n.text), nil
}

// UnmarshalBinary sets the text to b.
func (n *Note) UnmarshalBinary(b []byte) error {
	text := string(b)
	n.text = &text
	return nil
}

// Labeller passes values whose encoding, or deep copy, can fail: a Label
// (empty, its MarshalText fails), a Note (zero, its MarshalBinary fails) and
// a protocol buffer message (a string field holding invalid UTF-8,
// proto.Marshal fails). What each method returns is up to the test's
// implementation.
//
//quark:actor
type Labeller interface {
	// Relabel returns a label made from l.
	Relabel(ctx context.Context, l Label) (Label, error)
	// Wrap returns a message made from v.
	Wrap(ctx context.Context, v *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	// Annotate returns a note made from n.
	Annotate(ctx context.Context, n Note) (Note, error)
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
