package nomethods

import "context"

//quark:actor
type Empty interface{}

// empty embeds nothing but an empty interface.
//
//quark:actor
type EmbedsEmpty interface {
	Empty
}

//quark:actor
type Ok interface {
	Do(ctx context.Context) error
}
