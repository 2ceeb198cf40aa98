// Package quarkerr defines the one error type Quark's runtime, providers and
// generated code return: an *Error carrying a Code.
//
// It is a leaf package (standard library only) so that storage, cluster and
// transport packages can return typed errors without importing the root
// package, which re-exports everything here:
//
//	if quark.CodeOf(err) == quark.CodeTimeout { ... }
package quarkerr

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error. The zero Code is OK and never appears on an
// *Error.
type Code uint8

// The codes. Their numeric values are part of the wire format: never
// renumber, only append.
const (
	// OK is the code of a nil error.
	OK Code = iota
	// Unknown is an error with no more precise code: for instance an actor
	// method's own plain error.
	Unknown
	// Canceled: the caller cancelled the call.
	Canceled
	// InvalidArgument: the request or a configuration value is malformed.
	InvalidArgument
	// Timeout: the call's deadline passed before a result arrived.
	Timeout
	// NotFound: an unknown actor type or method, or a missing record.
	NotFound
	// Conflict: an optimistic-concurrency check (ETag) failed.
	Conflict
	// Overloaded: a bounded queue is full; the call was not accepted. A
	// one-way sender may instead wait for room within its context's
	// deadline (quark.WaitForRoom).
	Overloaded
	// Deadlock: the call would wait on an actor that is itself waiting on
	// this call chain.
	Deadlock
	// Panic: the actor method panicked; its activation was discarded.
	Panic
	// Unavailable: the target cannot take calls now (silo stopping or down).
	Unavailable
	// Internal: a broken invariant inside Quark.
	Internal
	// Corrupt: stored or received bytes could not be decoded.
	Corrupt
)

var codeNames = [...]string{
	OK:              "ok",
	Unknown:         "unknown",
	Canceled:        "canceled",
	InvalidArgument: "invalid argument",
	Timeout:         "timeout",
	NotFound:        "not found",
	Conflict:        "conflict",
	Overloaded:      "overloaded",
	Deadlock:        "deadlock",
	Panic:           "panic",
	Unavailable:     "unavailable",
	Internal:        "internal",
	Corrupt:         "corrupt",
}

// String returns the code's lower-case name, as used in error messages.
func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", uint8(c))
}

// Error is an error with a Code. Its message does not repeat the code; Error()
// prefixes it.
//
// The text names Quark once: when Errorf or Wrap puts another *Error's text
// into a message (as an operand, directly or inside a plain wrapping error or
// errors.Join), that text drops its "quark " prefix, and drops its code too
// when the code is the new error's own. So a corrupt read inside a corrupt
// load reads "quark corrupt: load state of X: read k: unexpected EOF", and a
// timeout inside an unavailable write reads "quark unavailable: write X:
// timeout: dial".
type Error struct {
	Code    Code
	Message string
	cause   error
}

// New returns an *Error with code and message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf formats like fmt.Errorf and gives the result code. Unwrap returns
// the %w operand; with several %w it returns an error that unwraps to every
// one of them, so errors.Is and errors.As find each.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	cause := errors.Unwrap(err)
	if multi, ok := err.(interface{ Unwrap() []error }); ok && len(multi.Unwrap()) > 0 {
		cause = err
	}
	message := err.Error()
	var rendered []any
	for i, arg := range args {
		if a, ok := arg.(error); ok && holdsError(a) {
			if rendered == nil {
				rendered = append([]any(nil), args...)
			}
			rendered[i] = text(innerText(a, code))
		}
	}
	if rendered != nil {
		message = fmt.Errorf(format, rendered...).Error()
	}
	return &Error{Code: code, Message: message, cause: cause}
}

// WithCause returns an *Error with code and message that unwraps to cause
// (which may be nil), so errors.Is(result, cause) holds.
func WithCause(code Code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, cause: cause}
}

// Wrap returns an *Error with code whose message is err's (rendered as the
// Error type's comment says) and which unwraps to err. It returns nil for a
// nil err.
func Wrap(code Code, err error) *Error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: innerText(err, code), cause: err}
}

// Error returns "quark <code>: <message>", or "quark <code>" for an empty
// message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "quark " + e.Code.String()
	}
	return "quark " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// text stands in for an error operand of Errorf when the message is
// rendered: it prints the operand's text with nested *Error prefixes removed.
type text string

func (t text) Error() string { return string(t) }

// holdsError reports whether err's tree holds an *Error.
func holdsError(err error) bool {
	found := false
	walkErrors(err, func(*Error) { found = true })
	return found
}

// innerText is err's text as it reads inside the message of an *Error with
// code outer: each outermost *Error in err's tree has its "quark <code>: "
// replaced by "<code>: ", or by nothing when its code is outer (an empty
// message keeps the code name). Deeper *Errors were rendered the same way
// when their enclosing *Error was built, so only the outermost need it.
func innerText(err error, outer Code) string {
	s := err.Error()
	walkErrors(err, func(e *Error) {
		inner := e.Message
		switch {
		case e.Message == "":
			inner = e.Code.String()
		case e.Code != outer:
			inner = e.Code.String() + ": " + e.Message
		}
		s = strings.Replace(s, e.Error(), inner, 1)
	})
	return s
}

// walkErrors calls visit for every *Error in err's tree that is not inside
// another *Error, in depth-first order.
func walkErrors(err error, visit func(*Error)) {
	switch x := err.(type) {
	case nil:
	case *Error:
		if x != nil {
			visit(x)
		}
	case interface{ Unwrap() error }:
		walkErrors(x.Unwrap(), visit)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			walkErrors(e, visit)
		}
	}
}

// Is reports whether target is an *Error with the same code and either no
// message or the same message, so errors.Is(err, &Error{Code: Timeout})
// matches every timeout.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// CodeOf returns err's code: OK for nil, the code of the first *Error in its
// chain, Timeout for context.DeadlineExceeded, Canceled for
// context.Canceled, and Unknown otherwise.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	}
	return Unknown
}
