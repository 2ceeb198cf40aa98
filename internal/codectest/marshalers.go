package codectest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is a semantic version whose fields are unexported: it can only
// cross the wire through its encoding.BinaryMarshaler methods.
type Version struct {
	major, minor, patch uint16
}

// NewVersion returns the version major.minor.patch.
func NewVersion(major, minor, patch uint16) Version {
	return Version{major, minor, patch}
}

// String returns "major.minor.patch".
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.major, v.minor, v.patch) }

// MarshalBinary returns six bytes, big-endian.
func (v Version) MarshalBinary() ([]byte, error) {
	b := make([]byte, 6)
	binary.BigEndian.PutUint16(b, v.major)
	binary.BigEndian.PutUint16(b[2:], v.minor)
	binary.BigEndian.PutUint16(b[4:], v.patch)
	return b, nil
}

// UnmarshalBinary reads what MarshalBinary wrote and rejects anything else.
func (v *Version) UnmarshalBinary(b []byte) error {
	if len(b) != 6 {
		return fmt.Errorf("version: %d bytes, want 6", len(b))
	}
	v.major = binary.BigEndian.Uint16(b)
	v.minor = binary.BigEndian.Uint16(b[2:])
	v.patch = binary.BigEndian.Uint16(b[4:])
	return nil
}

// Level is a log level, an integer that crosses the wire as its name
// through encoding.TextMarshaler.
type Level int

// The levels.
const (
	Debug Level = iota - 1
	Info
	Warn
	Error
)

var levelNames = map[Level]string{Debug: "debug", Info: "info", Warn: "warn", Error: "error"}

// Levels lists every valid Level.
var Levels = []Level{Debug, Info, Warn, Error}

// MarshalText returns the level's name; it fails for an invalid level.
func (l Level) MarshalText() ([]byte, error) {
	name, ok := levelNames[l]
	if !ok {
		return nil, fmt.Errorf("level %d has no name", int(l))
	}
	return []byte(name), nil
}

// UnmarshalText accepts only the names MarshalText returns.
func (l *Level) UnmarshalText(b []byte) error {
	for lv, name := range levelNames {
		if string(b) == name {
			*l = lv
			return nil
		}
	}
	return fmt.Errorf("unknown level %q", b)
}

// Color is an RGB colour that crosses the wire as "#rrggbb" through
// encoding.TextMarshaler, implemented with pointer receivers only.
type Color struct {
	R, G, B uint8
}

// MarshalText returns "#rrggbb".
func (c *Color) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "#%02x%02x%02x", c.R, c.G, c.B), nil
}

// UnmarshalText reads "#rrggbb".
func (c *Color) UnmarshalText(b []byte) error {
	s, ok := strings.CutPrefix(string(b), "#")
	if !ok || len(s) != 6 {
		return errors.New("color: want #rrggbb")
	}
	n, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return fmt.Errorf("color: %w", err)
	}
	c.R, c.G, c.B = uint8(n>>16), uint8(n>>8), uint8(n)
	return nil
}
