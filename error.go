package quark

import "github.com/quarkgo/quark/quarkerr"

// Error is the error type of the runtime, providers and generated code: a
// Code and a message. It is defined in package quarkerr (so providers can
// return it without importing this package) and re-exported here.
type Error = quarkerr.Error

// Code classifies an Error; CodeOf reads it from any error.
type Code = quarkerr.Code

// The error codes; see package quarkerr for their meaning.
const (
	CodeOK              = quarkerr.OK
	CodeUnknown         = quarkerr.Unknown
	CodeCanceled        = quarkerr.Canceled
	CodeInvalidArgument = quarkerr.InvalidArgument
	CodeTimeout         = quarkerr.Timeout
	CodeNotFound        = quarkerr.NotFound
	CodeConflict        = quarkerr.Conflict
	CodeOverloaded      = quarkerr.Overloaded
	CodeDeadlock        = quarkerr.Deadlock
	CodePanic           = quarkerr.Panic
	CodeUnavailable     = quarkerr.Unavailable
	CodeInternal        = quarkerr.Internal
	CodeCorrupt         = quarkerr.Corrupt
)

// CodeOf returns err's Code: OK for nil, the code of the first *Error in its
// chain, Timeout and Canceled for the context errors, Unknown otherwise.
func CodeOf(err error) Code { return quarkerr.CodeOf(err) }

// NewError returns an *Error with code and message.
func NewError(code Code, message string) *Error { return quarkerr.New(code, message) }

// Errorf returns an *Error with code and a message formatted like
// fmt.Errorf, %w included.
func Errorf(code Code, format string, args ...any) *Error {
	return quarkerr.Errorf(code, format, args...)
}
