package badchan

import "context"

// Events is a named channel type.
type Events chan string

// Queue is a named slice of channels.
type Queue []chan int

//quark:actor
type Actor interface {
	Param(ctx context.Context, c chan int) error
	Result(ctx context.Context) (<-chan int, error)
	Named(ctx context.Context, e Events) error
	Deep(ctx context.Context, m map[string][]*[2]chan bool, q Queue) error
	MapKey(ctx context.Context, m map[chan int]bool) error
	Unnamed(context.Context, chan struct{}) error
}
