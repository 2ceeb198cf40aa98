// Package imports uses types of other packages, two of them with the same
// name, and declares names that clash with the generated file's imports.
package imports

import (
	"context"
	htmltemplate "html/template"
	"math/rand/v2"
	"net/netip"
	"text/template"
	"time"

	"github.com/quarkgo/quark"
)

// sync clashes with the sync import of the generated file, so it is
// imported under another name.
var sync = "not the package"

// Local is a type of this package, unqualified in the generated code.
type Local struct{ N int }

// Renderer uses types of other packages.
//
//quark:actor
type Renderer interface {
	// Render renders a text template and an HTML one.
	Render(ctx context.Context, text *template.Template, html *htmltemplate.Template) (string, error)
	// Schedule takes standard library types.
	Schedule(ctx context.Context, at time.Time, every time.Duration, from netip.Addr) error
	// Seed takes a type from a package whose name is not its path's last
	// element.
	Seed(ctx context.Context, src *rand.PCG) error
	// Peer takes quark types.
	Peer(ctx context.Context, id quark.ID, key quark.Key) (Local, error)
	// Locals takes types of this package.
	Locals(ctx context.Context, l Local, ls []*Local) (map[string]Local, error)
}
