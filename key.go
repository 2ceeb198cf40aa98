package quark

import (
	"encoding/hex"
	"strconv"
)

// KeyKind says which kind of value a Key holds.
type KeyKind uint8

// The key kinds. A compound key is one of these plus a string extension.
const (
	KeyNone KeyKind = iota
	KeyString
	KeyInt
	KeyUUID
)

func (k KeyKind) String() string {
	switch k {
	case KeyString:
		return "string"
	case KeyInt:
		return "int"
	case KeyUUID:
		return "uuid"
	}
	return "none"
}

// Key is the per-type part of an actor's identity: a string, an int64, a
// UUID, or one of those plus a string extension (a compound key). Keys are
// comparable values; two keys are equal when kind, value and extension are.
// The zero Key is invalid.
type Key struct {
	kind     KeyKind
	compound bool
	n        int64
	s        string // string value, or the 16 raw bytes of a UUID
	ext      string
}

// StringKey returns a string key.
func StringKey(s string) Key { return Key{kind: KeyString, s: s} }

// IntKey returns an int64 key.
func IntKey(n int64) Key { return Key{kind: KeyInt, n: n} }

// UUIDKey returns a UUID key. Any [16]byte UUID type converts implicitly,
// for instance github.com/google/uuid.UUID.
func UUIDKey(u [16]byte) Key { return Key{kind: KeyUUID, s: string(u[:])} }

// CompoundKey returns base extended by ext, like Orleans' keys with an
// extension. base must not itself be compound; if it is, its extension is
// replaced.
func CompoundKey(base Key, ext string) Key {
	base.compound = true
	base.ext = ext
	return base
}

// Kind returns the kind of the key's primary value.
func (k Key) Kind() KeyKind { return k.kind }

// IsZero reports whether k is the zero (invalid) Key.
func (k Key) IsZero() bool { return k.kind == KeyNone }

// Str returns the value of a string key, and "" for other kinds.
func (k Key) Str() string {
	if k.kind != KeyString {
		return ""
	}
	return k.s
}

// Int returns the value of an int key, and 0 for other kinds.
func (k Key) Int() int64 { return k.n }

// UUID returns the value of a UUID key, and the zero UUID for other kinds.
func (k Key) UUID() (u [16]byte) {
	if k.kind == KeyUUID {
		copy(u[:], k.s)
	}
	return u
}

// Extension returns a compound key's extension and whether k is compound.
func (k Key) Extension() (string, bool) { return k.ext, k.compound }

// String formats the key for logs and errors: the string itself, the decimal
// integer, or the canonical UUID form, followed by "+ext" for a compound key.
func (k Key) String() string {
	var s string
	switch k.kind {
	case KeyString:
		s = k.s
	case KeyInt:
		s = strconv.FormatInt(k.n, 10)
	case KeyUUID:
		s = formatUUID(k.s)
	default:
		return "<none>"
	}
	if k.compound {
		s += "+" + k.ext
	}
	return s
}

func formatUUID(raw string) string {
	var b [36]byte
	hex.Encode(b[0:8], []byte(raw[0:4]))
	b[8] = '-'
	hex.Encode(b[9:13], []byte(raw[4:6]))
	b[13] = '-'
	hex.Encode(b[14:18], []byte(raw[6:8]))
	b[18] = '-'
	hex.Encode(b[19:23], []byte(raw[8:10]))
	b[23] = '-'
	hex.Encode(b[24:], []byte(raw[10:16]))
	return string(b[:])
}

// ID is an actor's identity: its type name and key. Every ID names an actor
// that exists logically; the runtime activates it on first use.
type ID struct {
	Type string
	Key  Key
}

// String returns "type/key".
func (id ID) String() string { return id.Type + "/" + id.Key.String() }
