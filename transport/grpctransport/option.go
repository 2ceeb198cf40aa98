package grpctransport

import (
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// Defaults of the options.
const (
	// DefaultMaxFrameSize is the largest frame Send accepts and a receiver
	// takes: 16 MiB of payload plus 64 KiB of headroom for the envelope
	// around it.
	DefaultMaxFrameSize = 16<<20 + 64<<10
	// DefaultKeepaliveTime is how long a connection may be silent before
	// a side pings its peer.
	DefaultKeepaliveTime = 20 * time.Second
	// DefaultKeepaliveTimeout is how long a side waits for the answer to a
	// ping before it closes the connection as broken.
	DefaultKeepaliveTimeout = 10 * time.Second

	// maxBatch is the size at which a batch is cut: frames queued behind
	// it go in the next stream message. One frame alone may be larger (up
	// to the maximum frame size). It bounds what one write holds up.
	maxBatch = 1 << 20
	// maxPending is how many bytes may wait behind a write in progress
	// before Send blocks, so a slow peer holds up its senders (flow
	// control) instead of growing memory without bound.
	maxPending = 4 * maxBatch
)

// Option configures a Transport.
type Option interface {
	apply(*config)
}

type config struct {
	maxFrame  int
	log       *slog.Logger
	keepalive Keepalive
	listener  net.Listener
	tls       *tls.Config
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithMaxFrameSize sets the largest frame, in bytes, this transport sends
// or accepts. Send refuses a larger frame with an error wrapping
// ErrFrameTooLarge; a peer that sends one has its connection closed. Both
// sides of a connection should use the same value. Default
// DefaultMaxFrameSize (16 MiB + 64 KiB); n < 1 keeps the default.
func WithMaxFrameSize(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxFrame = n
		}
	})
}

// WithLogger sets where the transport logs connections it closes for bad
// input and refused TLS handshakes. Default slog.Default(); nil keeps the
// default.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.log = l
		}
	})
}

// Keepalive sets how a broken connection to a live-looking peer (a host
// gone, a dropped route) is detected: after Time of silence a side pings,
// and closes the connection when no answer comes within Timeout. A peer
// process that exits or a closed listener is detected at once, without
// pings, from the reset connection.
type Keepalive struct {
	Time    time.Duration
	Timeout time.Duration
}

// WithKeepalive sets the keepalive of both the dialing and the accepting
// side. Default DefaultKeepaliveTime (20 s) and DefaultKeepaliveTimeout
// (10 s); a zero field keeps its default. The accepting side permits pings
// as often as every Time/2, so two transports with the same setting agree.
func WithKeepalive(k Keepalive) Option {
	return optionFunc(func(c *config) {
		if k.Time > 0 {
			c.keepalive.Time = k.Time
		}
		if k.Timeout > 0 {
			c.keepalive.Timeout = k.Timeout
		}
	})
}

// WithListener makes Listen serve on ln, a listener already bound, instead
// of binding the address it is given (which it then ignores); its Addr
// reports ln's address. A process can so bind "127.0.0.1:0", report the
// address, and start serving later. ln serves one Listen call; the
// Listener's Close closes it. Default none: Listen binds its address.
func WithListener(ln net.Listener) Option {
	return optionFunc(func(c *config) { c.listener = ln })
}

// WithTLS secures connections with TLS: Listen presents cfg's certificates
// (and, with cfg.ClientAuth set to tls.RequireAndVerifyClientCert and
// ClientCAs, refuses peers without a valid client certificate); Dial
// verifies the server against cfg.RootCAs and cfg.ServerName (default: the
// host of the dialled address) and presents cfg.Certificates for mutual TLS.
// TLSFromFiles builds a config for both sides. The transport does not
// modify cfg. Default nil: plain TCP without encryption, meant for loopback
// development only.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.tls = cfg })
}
