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
	// Overloaded: a bounded queue is full; the call was not accepted.
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
type Error struct {
	Code    Code
	Message string
	cause   error
}

// New returns an *Error with code and message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Errorf formats like fmt.Errorf (including %w, which Unwrap then returns)
// and gives the result code.
func Errorf(code Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), cause: errors.Unwrap(err)}
}

// WithCause returns an *Error with code and message that unwraps to cause
// (which may be nil), so errors.Is(result, cause) holds.
func WithCause(code Code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, cause: cause}
}

// Wrap returns an *Error with code whose message is err's and which unwraps
// to err. It returns nil for a nil err.
func Wrap(code Code, err error) *Error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Message: err.Error(), cause: err}
}

// Error returns "quark <code>: <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return "quark " + e.Code.String()
	}
	return "quark " + e.Code.String() + ": " + e.Message
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.cause }

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
	var e *Error
	if errors.As(err, &e) {
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
