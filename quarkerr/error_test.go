package quarkerr_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/quarkgo/quark/quarkerr"
)

func TestCodeOf(t *testing.T) {
	base := errors.New("disk full")
	cases := []struct {
		err  error
		want quarkerr.Code
	}{
		{nil, quarkerr.OK},
		{base, quarkerr.Unknown},
		{quarkerr.New(quarkerr.Conflict, "etag"), quarkerr.Conflict},
		{fmt.Errorf("save: %w", quarkerr.New(quarkerr.Corrupt, "bad bytes")), quarkerr.Corrupt},
		{context.DeadlineExceeded, quarkerr.Timeout},
		{fmt.Errorf("wait: %w", context.Canceled), quarkerr.Canceled},
		{quarkerr.Wrap(quarkerr.Unavailable, base), quarkerr.Unavailable},
	}
	for _, c := range cases {
		if got := quarkerr.CodeOf(c.err); got != c.want {
			t.Errorf("CodeOf(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestErrorFormatAndMatching(t *testing.T) {
	base := errors.New("disk full")
	err := quarkerr.Errorf(quarkerr.Unavailable, "write %s: %w", "acct/1", base)
	if err.Error() != "quark unavailable: write acct/1: disk full" {
		t.Fatalf("Error() = %q", err.Error())
	}
	if !errors.Is(err, base) {
		t.Fatal("Errorf lost the %w cause")
	}
	if !errors.Is(err, &quarkerr.Error{Code: quarkerr.Unavailable}) {
		t.Fatal("an *Error with only a code does not match by code")
	}
	if errors.Is(err, &quarkerr.Error{Code: quarkerr.Timeout}) {
		t.Fatal("matched a different code")
	}
	if quarkerr.Wrap(quarkerr.Internal, nil) != nil {
		t.Fatal("Wrap(nil) is not nil")
	}
	if s := quarkerr.Code(200).String(); s != "code(200)" {
		t.Fatalf("unknown code string %q", s)
	}
	if s := (&quarkerr.Error{Code: quarkerr.Timeout}).Error(); s != "quark timeout" {
		t.Fatalf("empty message: %q", s)
	}
}

// TestErrorfKeepsEveryCause: fmt.Errorf with several %w wraps all of them
// (Unwrap() []error); an *Error built by Errorf must keep them all.
func TestErrorfKeepsEveryCause(t *testing.T) {
	disk := errors.New("disk full")
	net := errors.New("network down")
	corrupt := quarkerr.New(quarkerr.Corrupt, "bad bytes")
	err := quarkerr.Errorf(quarkerr.Unavailable, "write: %w; retry: %w; check: %w", disk, net, corrupt)
	for _, cause := range []error{disk, net, corrupt} {
		if !errors.Is(err, cause) {
			t.Errorf("errors.Is(%q, %q) = false", err, cause)
		}
	}
	var e *quarkerr.Error
	if !errors.As(err, &e) || e.Code != quarkerr.Unavailable {
		t.Fatalf("errors.As found %v, want the outer unavailable error", e)
	}
	if quarkerr.CodeOf(err) != quarkerr.Unavailable {
		t.Fatalf("CodeOf = %v", quarkerr.CodeOf(err))
	}
	// One %w still unwraps to exactly that cause.
	if got := errors.Unwrap(quarkerr.Errorf(quarkerr.Internal, "x: %w", disk)); got != disk {
		t.Fatalf("Unwrap with one %%w = %v, want the cause itself", got)
	}
	if got := errors.Unwrap(quarkerr.Errorf(quarkerr.Internal, "x %d", 1)); got != nil {
		t.Fatalf("Unwrap without %%w = %v, want nil", got)
	}
}

// TestErrorTextNamesQuarkOnce: an *Error's text inside another's (through
// Errorf, Wrap, plain wrapping errors or errors.Join) drops its "quark "
// prefix, and its code too when the enclosing error has the same one.
func TestErrorTextNamesQuarkOnce(t *testing.T) {
	eof := errors.New("unexpected EOF")
	bad := quarkerr.New(quarkerr.Corrupt, "bad bytes")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"alone", bad, "quark corrupt: bad bytes"},
		{"no message", quarkerr.New(quarkerr.Timeout, ""), "quark timeout"},
		{"same code", quarkerr.Errorf(quarkerr.Corrupt, "load state of %s: %w", "acct/1",
			quarkerr.Errorf(quarkerr.Corrupt, "read %s: %w", "k", eof)),
			"quark corrupt: load state of acct/1: read k: unexpected EOF"},
		{"other code", quarkerr.Errorf(quarkerr.Unavailable, "write acct/1: %w", quarkerr.New(quarkerr.Timeout, "dial")),
			"quark unavailable: write acct/1: timeout: dial"},
		{"three levels", quarkerr.Errorf(quarkerr.Internal, "a: %w",
			quarkerr.Errorf(quarkerr.Internal, "b: %w", quarkerr.Errorf(quarkerr.Corrupt, "c: %w", bad))),
			"quark internal: a: b: corrupt: c: bad bytes"},
		{"through a plain error", quarkerr.Errorf(quarkerr.Corrupt, "step: %w", fmt.Errorf("load: %w", bad)),
			"quark corrupt: step: load: bad bytes"},
		{"with %v", quarkerr.Errorf(quarkerr.Internal, "saw %v", quarkerr.New(quarkerr.Conflict, "etag")),
			"quark internal: saw conflict: etag"},
		{"several %w", quarkerr.Errorf(quarkerr.Corrupt, "%w and %w", bad, quarkerr.New(quarkerr.NotFound, "y")),
			"quark corrupt: bad bytes and not found: y"},
		{"joined", quarkerr.Errorf(quarkerr.Unavailable, "both: %w",
			errors.Join(quarkerr.New(quarkerr.Timeout, "a"), quarkerr.New(quarkerr.Unavailable, "b"))),
			"quark unavailable: both: timeout: a\nb"},
		{"empty inner, same code", quarkerr.Errorf(quarkerr.Timeout, "call X: %w", quarkerr.New(quarkerr.Timeout, "")),
			"quark timeout: call X: timeout"},
		{"wrap same code", quarkerr.Wrap(quarkerr.Corrupt, bad), "quark corrupt: bad bytes"},
		{"wrap other code", quarkerr.Wrap(quarkerr.Unavailable, quarkerr.New(quarkerr.Timeout, "")),
			"quark unavailable: timeout"},
		{"wrap plain", quarkerr.Wrap(quarkerr.Unavailable, fmt.Errorf("dial: %w", bad)),
			"quark unavailable: dial: corrupt: bad bytes"},
		{"nil *Error operand", quarkerr.Errorf(quarkerr.Internal, "x: %v", (*quarkerr.Error)(nil)),
			"quark internal: x: <nil>"},
		{"plain outside", fmt.Errorf("save: %w", quarkerr.Errorf(quarkerr.Corrupt, "x: %w", bad)),
			"save: quark corrupt: x: bad bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Errorf("Error() = %q\nwant       %q", got, c.want)
			}
		})
	}
}
