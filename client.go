package quark

import (
	"context"
	"errors"
	"log/slog"
	"slices"

	"github.com/quarkgo/quark/internal/wire"
)

// Client calls actors from a process that hosts none: a front end, a job, a
// command-line tool. It is a Caller, so the generated references work with
// it as with a silo (bank.NewAccountRef(client, key)), and the call's
// guarantees are the same: deadlines and cancellation reach the actor, its
// errors arrive with their code, message and registered sentinel identity.
//
// A client connects to the gateway silos it is given (WithGateways) and
// learns from the first that answers where actors live (the static
// cluster's member list, or the lone silo); it then sends each call
// straight to the silo its actor lives on, connecting to it on first use.
// A connection that breaks fails the calls in flight on it with
// CodeUnavailable at once, and is made again by the next call to that
// silo, with a growing pause (up to two seconds) between failed attempts,
// during which calls for its actors fail at once with CodeUnavailable.
//
// A Client is safe for concurrent use. Close it when done.
type Client struct {
	s *Silo
}

// clientConfig is a client's configuration: the part of a silo's it shares
// (the SharedOption values: transport, cluster name, logger, call timeout,
// outgoing interceptors, propagators, message size) and its gateways.
type clientConfig struct {
	siloConfig
	gateways []string
}

// WithGateways sets the silos a client connects to first, by address; any
// one that answers is enough. Required.
func WithGateways(addrs ...string) ClientOption {
	return clientOption(func(c *clientConfig) { c.gateways = append(c.gateways, addrs...) })
}

// NewClient connects to the first of the gateways that answers, trying
// each in turn, and returns a client ready for calls. It fails with
// CodeInvalidArgument for an invalid option (no transport, no gateway), an
// error wrapping ErrForeignCluster or ErrProtocolVersion when a gateway
// refuses the client, and CodeUnavailable when none could be reached before
// ctx ended or every one was tried.
func NewClient(ctx context.Context, opts ...ClientOption) (*Client, error) {
	cfg := clientConfig{siloConfig: defaultSiloConfig()}
	cfg.name = "client"
	for _, o := range opts {
		o.applyToClient(&cfg)
	}
	if cfg.transport == nil {
		return nil, Errorf(CodeInvalidArgument, "client option: no transport (WithTransport)")
	}
	if len(cfg.gateways) == 0 {
		return nil, Errorf(CodeInvalidArgument, "client option: no gateway (WithGateways)")
	}
	if slices.Contains(cfg.gateways, "") {
		return nil, Errorf(CodeInvalidArgument, "client option: empty gateway address")
	}
	if err := cfg.siloConfig.validate(); err != nil {
		return nil, err
	}
	s, err := newSilo(cfg.siloConfig)
	if err != nil {
		return nil, err
	}
	s.log = cfg.log.With(slog.String("client", cfg.name))
	s.remote = newMessenger(s, wire.RoleClient)
	s.remote.log = s.log
	s.state.Store(siloRunning)
	c := &Client{s: s}
	var errs []error
	for _, g := range cfg.gateways {
		_, err := s.remote.peer(g).conn(ctx)
		if err == nil {
			s.log.Info("client connected", slog.String("gateway", g))
			return c, nil
		}
		errs = append(errs, err)
		if CodeOf(err) == CodeInvalidArgument || ctx.Err() != nil {
			break // refused, or out of time: trying others would not help
		}
	}
	s.remote.close()
	s.state.Store(siloStopped)
	err = errors.Join(errs...)
	if CodeOf(err) == CodeInvalidArgument {
		return nil, err
	}
	return nil, Errorf(CodeUnavailable, "client: no gateway reachable of %q: %w", cfg.gateways, err)
}

// newRef makes a Ref that sends through the client.
func (c *Client) newRef(d *TypeDesc, key Key) Ref { return c.s.newRef(d, key) }

// Close closes the client's connections: calls still waiting fail with
// CodeUnavailable, and later calls fail at once. It returns nil; calling it
// again does nothing.
func (c *Client) Close() error {
	c.s.state.Store(siloStopped)
	c.s.remote.close()
	return nil
}
