package codec

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/quarkgo/quark/quarkerr"
	"github.com/tinylib/msgp/msgp"
)

// Errors cross the wire as their code, their message and, for a sentinel
// error a package declared and registered, its identity, so that errors.Is
// matches the sentinel on the caller's side. Nothing else survives: wrapped
// causes other than a registered sentinel, and an error's concrete type,
// arrive as an *quarkerr.Error with the original code and message.

func init() {
	// The context errors keep matching errors.Is across the wire.
	RegisterError("context.Canceled", context.Canceled)
	RegisterError("context.DeadlineExceeded", context.DeadlineExceeded)
}

var sentinels struct {
	sync.RWMutex
	byName map[string]error
	names  []string // registration order, for a deterministic match
}

// RegisterError makes err, a sentinel error value, recognisable across the
// wire under name (by convention "import/path.ErrName"). Generated code
// registers every package-level error variable of a package that declares
// actors. Registering a second value under a name already taken panics, as
// it is a programming error that would make errors match the wrong value.
func RegisterError(name string, err error) {
	sentinels.Lock()
	defer sentinels.Unlock()
	if sentinels.byName == nil {
		sentinels.byName = make(map[string]error)
	}
	if old, ok := sentinels.byName[name]; ok {
		if old != err {
			panic(fmt.Sprintf("codec: error %q registered twice with different values", name))
		}
		return
	}
	sentinels.byName[name] = err
	sentinels.names = append(sentinels.names, name)
}

// sentinelOf returns the name of the first registered sentinel err matches.
func sentinelOf(err error) (string, error) {
	sentinels.RLock()
	defer sentinels.RUnlock()
	for _, name := range sentinels.names {
		if s := sentinels.byName[name]; errors.Is(err, s) {
			return name, s
		}
	}
	return "", nil
}

// AppendError appends err's wire form to b: nil for a nil error, else a map
// of its code ("c"), message ("m") and sentinel identity ("s", when err
// matches a registered sentinel).
func AppendError(b []byte, err error) []byte {
	if err == nil {
		return msgp.AppendNil(b)
	}
	code := quarkerr.CodeOf(err)
	name, _ := sentinelOf(err)
	n := uint32(2)
	if name != "" {
		n = 3
	}
	b = msgp.AppendMapHeader(b, n)
	b = msgp.AppendString(b, "c")
	b = msgp.AppendUint8(b, uint8(code))
	b = msgp.AppendString(b, "m")
	b = msgp.AppendString(b, errorMessage(err))
	if name != "" {
		b = msgp.AppendString(b, "s")
		b = msgp.AppendString(b, name)
	}
	return b
}

// errorMessage is the message to send: an *quarkerr.Error's own message
// (its code travels apart), else the error's text.
func errorMessage(err error) string {
	var qe *quarkerr.Error
	if errors.As(err, &qe) && qe == err {
		return qe.Message
	}
	return err.Error()
}

// ReadError reads an error written by AppendError. The error it returns is
// an *quarkerr.Error with the original code and message, unwrapping to the
// registered sentinel when one was named and is known here; decodeErr
// reports malformed input, unknown fields nested deeper than MaxDepth
// included.
func ReadError(b []byte) (err error, rest []byte, decodeErr error) {
	if msgp.IsNil(b) {
		rest, decodeErr = msgp.ReadNilBytes(b)
		return nil, rest, Corrupt("error", decodeErr)
	}
	n, rest, derr := ReadMapLen(b)
	if derr != nil {
		return nil, b, Corrupt("error", derr)
	}
	var code uint8
	var msg, name string
	for range n {
		var key []byte
		key, rest, derr = msgp.ReadMapKeyZC(rest)
		if derr != nil {
			return nil, b, Corrupt("error", derr)
		}
		switch string(key) {
		case "c":
			code, rest, derr = msgp.ReadUint8Bytes(rest)
		case "m":
			msg, rest, derr = msgp.ReadStringBytes(rest)
		case "s":
			name, rest, derr = msgp.ReadStringBytes(rest)
		default:
			rest, derr = Skip(rest)
		}
		if derr != nil {
			return nil, b, Corrupt("error", derr)
		}
	}
	c := quarkerr.Code(code)
	if c == quarkerr.OK {
		c = quarkerr.Unknown
	}
	var cause error
	if name != "" {
		sentinels.RLock()
		cause = sentinels.byName[name]
		sentinels.RUnlock()
	}
	return quarkerr.WithCause(c, msg, cause), rest, nil
}
