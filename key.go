package quark

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"github.com/quarkgo/quark/quarkerr"
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

// MarshalBinary encodes the key: a byte of kind (with bit 7 set for a
// compound key), then the value (8 bytes big-endian for an int, 16 for a
// UUID, a uvarint length and the bytes for a string), then for a compound
// key the extension as a uvarint length and bytes. It lets keys and IDs be
// actor arguments, results and state.
func (k Key) MarshalBinary() ([]byte, error) {
	if k.IsZero() {
		return []byte{}, nil // the zero Key encodes as no bytes
	}
	return k.AppendBinary(make([]byte, 0, 1+binary.MaxVarintLen64+len(k.s)+len(k.ext)+binary.MaxVarintLen64))
}

// AppendBinary appends the key's MarshalBinary form to b
// (encoding.BinaryAppender); it never fails.
func (k Key) AppendBinary(b []byte) ([]byte, error) {
	if k.IsZero() {
		return b, nil
	}
	kind := byte(k.kind)
	if k.compound {
		kind |= 0x80
	}
	b = append(b, kind)
	switch k.kind {
	case KeyInt:
		b = binary.BigEndian.AppendUint64(b, uint64(k.n))
	case KeyUUID:
		b = append(b, k.s...)
	case KeyString:
		b = binary.AppendUvarint(b, uint64(len(k.s)))
		b = append(b, k.s...)
	}
	if k.compound {
		b = binary.AppendUvarint(b, uint64(len(k.ext)))
		b = append(b, k.ext...)
	}
	return b, nil
}

// UnmarshalBinary decodes a key written by MarshalBinary; malformed input
// is an *Error with CodeCorrupt.
func (k *Key) UnmarshalBinary(b []byte) error {
	bad := func(why string) error { return quarkerr.Errorf(quarkerr.Corrupt, "decode key: %s", why) }
	if len(b) == 0 {
		*k = Key{}
		return nil
	}
	var out Key
	out.kind = KeyKind(b[0] &^ 0x80)
	out.compound = b[0]&0x80 != 0
	b = b[1:]
	str := func() (string, bool) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return "", false
		}
		s := string(b[w : w+int(n)])
		b = b[w+int(n):]
		return s, true
	}
	var ok bool
	switch out.kind {
	case KeyInt:
		if len(b) < 8 {
			return bad("short int")
		}
		out.n = int64(binary.BigEndian.Uint64(b))
		b = b[8:]
	case KeyUUID:
		if len(b) < 16 {
			return bad("short UUID")
		}
		out.s = string(b[:16])
		b = b[16:]
	case KeyString:
		if out.s, ok = str(); !ok {
			return bad("bad string length")
		}
	default:
		return bad("unknown kind")
	}
	if out.compound {
		if out.ext, ok = str(); !ok {
			return bad("bad extension length")
		}
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	*k = out
	return nil
}

// ID is an actor's identity: its type name and key. Every ID names an actor
// that exists logically; the runtime activates it on first use.
type ID struct {
	Type string
	Key  Key
}

// String returns "type/key".
func (id ID) String() string { return id.Type + "/" + id.Key.String() }

// StorageKey returns the key under which the actor's State is stored:
//
//	<type>:<kind>:<value>[+<extension>]
//
// where kind is "str", "int" or "uuid", value is the string, the decimal
// integer or the canonical UUID form, and a compound key appends "+" and its
// extension. The type, a string value and an extension are escaped: '%',
// '/', ':', '+' and '\\', control characters and bytes that are not valid
// UTF-8 become %XX (two upper-case hex digits); everything else is kept, so
// keys stay readable in a store's own tools, and every store keeps them as
// they are (PostgreSQL's TEXT column included). Two IDs have the same storage key
// only when they are equal, and no storage key holds a '/', so none can be
// mistaken for a key of the layout before it (id.String(); see
// MigrateLegacyState and docs/storage.md).
//
//	bank.Account:str:alice
//	bank.Account:int:42+eu
//	bank.Account:str:a%2Bb        (StringKey("a+b"))
//	bank.Account:str:a+b          (CompoundKey(StringKey("a"), "b"))
func (id ID) StorageKey() string {
	k := id.Key
	b := make([]byte, 0, len(id.Type)+len(k.s)+len(k.ext)+16)
	b = appendEscaped(b, id.Type)
	switch k.kind {
	case KeyString:
		b = append(b, ":str:"...)
		b = appendEscaped(b, k.s)
	case KeyInt:
		b = append(b, ":int:"...)
		b = strconv.AppendInt(b, k.n, 10)
	case KeyUUID:
		b = append(b, ":uuid:"...)
		b = append(b, formatUUID(k.s)...)
	default:
		b = append(b, ":none:"...)
	}
	if k.compound {
		b = append(b, '+')
		b = appendEscaped(b, k.ext)
	}
	return string(b)
}

// appendEscaped appends s to b with the bytes a storage key reserves
// escaped as %XX. Unescaping %XX gives s back, so the escaping is injective.
func appendEscaped(b []byte, s string) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == '%' || c == '/' || c == ':' || c == '+' || c == '\\' {
				b = append(b, '%', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&0xf])
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return b
}
