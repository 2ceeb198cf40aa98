package gen

import (
	"fmt"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// An Error is one problem found in a package: a type error, a misused
// marker, or an actor method that cannot be generated.
type Error struct {
	// Pos is where the problem is. Only Filename and Line are meaningful,
	// and Filename is empty for an error without a position.
	Pos token.Position
	// Msg says what is wrong.
	Msg string
}

// Error formats e as "file:line: message".
func (e *Error) Error() string {
	if e.Pos.Filename == "" {
		return e.Msg
	}
	if e.Pos.Line == 0 {
		return e.Pos.Filename + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.Pos.Filename, e.Pos.Line, e.Msg)
}

// ErrorList is the list of errors found in one or more packages, sorted by
// position.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors orders l by file, line and column, then message, and drops
// duplicates.
func sortErrors(l ErrorList) ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return l[i].Msg < l[j].Msg
	})
	out := l[:0]
	for i, e := range l {
		if i > 0 && e.Pos == l[i-1].Pos && e.Msg == l[i-1].Msg {
			continue
		}
		out = append(out, e)
	}
	return out
}

// parsePos parses the "file:line:col", "file:line" or "file" positions of
// go/packages errors. "" and "-" mean no position.
func parsePos(s string) token.Position {
	if s == "" || s == "-" {
		return token.Position{}
	}
	var nums []int
	rest := s
	for len(nums) < 2 {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			break
		}
		nums = append(nums, n)
		rest = rest[:i]
	}
	p := token.Position{Filename: rest}
	switch len(nums) {
	case 1:
		p.Line = nums[0]
	case 2:
		p.Line, p.Column = nums[1], nums[0]
	}
	return p
}
