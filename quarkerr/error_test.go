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
