package quarktest_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/quarkgo/quark/quarktest"
)

func TestClockRunsDueFunctionsInOrder(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := quarktest.NewClock(start)
	var got []string
	at := func(name string) func() {
		return func() { got = append(got, fmt.Sprintf("%s@%v", name, c.Now().Sub(start))) }
	}
	c.AfterFunc(3*time.Second, at("c"))
	c.AfterFunc(time.Second, at("a"))
	stopped := c.AfterFunc(2*time.Second, at("never"))
	c.AfterFunc(2*time.Second, at("b"))
	if !stopped.Stop() {
		t.Fatal("Stop of a pending function reported false")
	}
	if stopped.Stop() {
		t.Fatal("second Stop reported true")
	}
	// A function scheduled by a running one runs in the same Advance if due.
	c.AfterFunc(1500*time.Millisecond, func() {
		at("x")()
		c.AfterFunc(time.Second, at("y"))
	})
	c.Advance(2500 * time.Millisecond)
	want := []string{"a@1s", "x@1.5s", "b@2s", "y@2.5s"}
	if !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if now := c.Now().Sub(start); now != 2500*time.Millisecond {
		t.Fatalf("Now = start+%v after Advance", now)
	}
	if c.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1", c.Pending())
	}
	c.Set(start.Add(time.Hour))
	if len(got) != 5 || got[4] != "c@3s" {
		t.Fatalf("after Set: %v", got)
	}
	c.Set(start) // never backwards
	if c.Now() != start.Add(time.Hour) {
		t.Fatal("Set moved the clock backwards")
	}
}
