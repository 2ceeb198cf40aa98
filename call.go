package quark

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/quarkgo/quark/codec"
)

// Call sends m to the referenced actor and waits for its result. Generated
// proxies call it; afterwards they read results only if m.Reclaim() allows.
func (r Ref) Call(ctx context.Context, m Message) error {
	e := m.envelope()
	e.msg = m
	e.target = r.id
	e.typ = r.typ
	e.loc = r.loc
	e.shared = m.Method().ReadOnly
	return r.rt.invoke(ctx, m)
}

// invoke sends the call m made through a Ref (refRuntime): it isolates the
// arguments, then runs the outgoing interceptors, if any, around dispatch.
func (s *Silo) invoke(ctx context.Context, m Message) error {
	if err := s.isolateArgs(m.envelope()); err != nil {
		return err
	}
	if len(s.cfg.outgoing) == 0 {
		return s.dispatch(ctx, m)
	}
	return s.out(ctx, m)
}

// Send queues the one-way message m for the referenced actor and returns
// without waiting for it to run. m belongs to the runtime from then on,
// whatever Send returns; it is released once it has run and the outgoing
// interceptors have returned. A message that cannot be queued (or that an
// interceptor stops) is counted in Stats.DroppedOneWay, logged (at most one
// line a second per silo, with the count), and reported by the returned
// error.
func (r Ref) Send(ctx context.Context, m Message) error {
	e := m.envelope()
	e.msg = m
	e.target = r.id
	e.typ = r.typ
	e.loc = r.loc
	e.oneWay = true
	e.shared = m.Method().ReadOnly
	return r.rt.post(ctx, m)
}

// post sends the one-way message m made through a Ref (refRuntime), as
// Ref.Send describes.
func (s *Silo) post(ctx context.Context, m Message) error {
	e := m.envelope()
	if err := s.isolateArgs(e); err != nil {
		e.refs.Store(1)
		return s.drop(e, err)
	}
	if len(s.cfg.outgoing) == 0 {
		e.refs.Store(1)
		return s.dispatch(ctx, m)
	}
	// Interceptors may read m after next returns, while the message may
	// already have run: it is released by whichever side finishes last.
	e.refs.Store(2)
	err := s.out(ctx, m)
	if e.state.Load() == envIdle {
		// An interceptor stopped it before it reached the runtime.
		if err == nil {
			err = Errorf(CodeInternal, "send %s.%s: an outgoing interceptor returned without passing the message on",
				e.target, m.Method().Name)
		}
		e.refs.Store(1)
		return s.drop(e, err)
	}
	s.unref(e)
	return err
}

// dispatch is the innermost outgoing invoker: it delivers a message to a
// local activation.
func (s *Silo) dispatch(ctx context.Context, m Message) error {
	e := m.envelope()
	if e.oneWay {
		return s.send(ctx, e)
	}
	return s.call(ctx, e)
}

// admissible checks what every call needs before delivery here. A call
// for an actor homed in another process (remote) needs no registration of
// its type here: the home checks it.
func (s *Silo) admissible(e *Envelope, chained, remote bool) error {
	if e.typ == nil && !remote {
		return Errorf(CodeNotFound, "call %s.%s: unknown actor type %q", e.target, e.msg.Method().Name, e.target.Type)
	}
	if e.target.Key.IsZero() {
		return Errorf(CodeInvalidArgument, "call %s.%s: zero key", e.target, e.msg.Method().Name)
	}
	switch st := s.state.Load(); {
	case st == siloRunning:
	case st == siloStopping && chained:
	case st == siloCreated:
		return Errorf(CodeUnavailable, "call %s.%s: silo %q is not started", e.target, e.msg.Method().Name, s.cfg.name)
	case st == siloStopped:
		return Errorf(CodeUnavailable, "call %s.%s: silo %q is stopped", e.target, e.msg.Method().Name, s.cfg.name)
	default:
		return Errorf(CodeUnavailable, "call %s.%s: silo %q is stopping", e.target, e.msg.Method().Name, s.cfg.name)
	}
	return nil
}

// call delivers a request and waits for its response: here, or in the
// process where its actor lives (see Silo.home).
func (s *Silo) call(ctx context.Context, e *Envelope) error {
	if err := ended(ctx); err != nil {
		// Nothing runs for a caller that has already given up, even on an
		// idle actor that would run the call on the caller's goroutine.
		e.state.Store(envIdle)
		return gaveUp(e, err, "the deadline passed before the call was made")
	}
	caller := chainOf(ctx)
	p, err := s.home(e)
	if err == nil {
		err = s.admissible(e, caller != nil, p != nil)
	}
	if err != nil {
		e.state.Store(envIdle)
		return err
	}
	if err := s.enterChain(e, caller); err != nil {
		return err
	}
	e.ctx = newCallCtx(s, ctx, e, caller)
	e.state.Store(envPending)
	// A reentrant caller gives up its turn while it waits: the turn is
	// released by its first call out and taken back after its last returns.
	if caller != nil && caller.act != nil && caller.act.typ.desc.Reentrant && !caller.pinned.Load() {
		caller.act.suspend(caller)
		err := s.deliverTo(ctx, e, p)
		caller.act.resume(caller)
		return err
	}
	return s.deliverTo(ctx, e, p)
}

// ended returns the error of ctx if it has already ended, or nil. It reads
// ctx's Done channel, which a context with a deadline closes when the
// deadline passes, so it reads no clock and makes no context: a method's
// context is asked through the context that signals its deadline when one
// exists (the caller's, or one already made for it); its default deadline,
// not yet signalled by anything, is left to the call's own wait.
func ended(ctx context.Context) error {
	var c *callCtx
	switch x := ctx.(type) {
	case *callCtx:
		c = x
	case *oneWayCtx:
		if c = x.c.Load(); c == nil || c == endedOneWay {
			return nil
		}
	}
	if c != nil {
		switch o := c.own.Load(); {
		case c.governedByParent():
			ctx = c.parent
		case o != nil:
			ctx = o.ctx
		default:
			return nil
		}
	}
	done := ctx.Done()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return ctx.Err()
	default:
		return nil
	}
}

// deliverTo delivers the call e to p, or here when p is nil.
func (s *Silo) deliverTo(ctx context.Context, e *Envelope, p *peer) error {
	if p != nil {
		return s.remote.call(ctx, e, p)
	}
	return s.admitAndDeliver(ctx, e)
}

// enterChain decides how the call e relates to its caller's call chain
// (the live links of this process and those received from others): a call
// back into an actor that waits in the chain rejoins or re-enters its turn
// when its type or the readonly rule allows, and is CodeDeadlock otherwise.
// A target whose type is not registered here (homed elsewhere) is taken as
// neither reentrant nor stateless.
func (s *Silo) enterChain(e *Envelope, caller *callCtx) error {
	l := caller.find(&e.target)
	if l == nil {
		return nil
	}
	var reentrant bool
	if e.typ != nil {
		if e.typ.desc.Stateless {
			return nil
		}
		reentrant = e.typ.desc.Reentrant
	}
	switch {
	case reentrant && !l.pinned.Load():
		// The chain's turn is released while it waits.
		e.turn.inChain = true
	case e.shared && !l.pinned.Load() && l.env != nil && l.env.shared:
		// The chain holds a readonly turn of the target, which this
		// readonly call shares: it rejoins that turn even past a
		// waiting writer, which waits for the chain itself.
		e.turn.rejoin = true
	default:
		return Errorf(CodeDeadlock, "call %s.%s: %s is already waiting in this call chain and is not reentrant",
			e.target, e.msg.Method().Name, e.target)
	}
	return nil
}

// admitAndDeliver asks the incoming interceptors to admit the call e, with
// the callee's context, then delivers it. It runs after a reentrant caller
// has released its turn, so that an Admit hook's own calls may reach it.
func (s *Silo) admitAndDeliver(ctx context.Context, e *Envelope) error {
	if s.admitters != nil {
		if err := s.admit(e.ctx, e.msg); err != nil {
			e.ctx.finish()
			e.state.Store(envDone)
			return err
		}
	}
	return s.deliver(ctx, e)
}

// deliver finds or creates the target activation and runs or queues e.
func (s *Silo) deliver(ctx context.Context, e *Envelope) error {
	a, r := s.route(e, s.cfg.inline)
	switch r {
	case admitOverload:
		e.ctx.finish()
		e.state.Store(envDone)
		return Errorf(CodeOverloaded, "call %s.%s: mailbox full (%d messages)", e.target, e.msg.Method().Name, e.typ.mailbox)
	case admitDiscarded:
		e.ctx.finish()
		e.state.Store(envDone)
		return errDiscarded(e)
	case admitStopped:
		e.ctx.finish()
		e.state.Store(envDone)
		return errStopped(s, e)
	case admitQueued:
		return s.wait(ctx, e)
	}
	err := a.run(e, nil)
	e.ctx.finish()
	var act actions
	a.mu.Lock()
	a.finish(e, s.coarse.Load(), &act)
	a.mu.Unlock()
	e.state.Store(envDone)
	if act.any() {
		a.perform(act)
	}
	return err
}

// wait blocks until the queued call e completes, ctx ends, or the default
// deadline passes (see deadlineList). A call given up on is marked
// abandoned: if it is still queued it will not run, and if it is running its
// result is dropped.
func (s *Silo) wait(ctx context.Context, e *Envelope) error {
	r := e.reply
	listed := !e.ctx.governedByParent()
	if listed {
		r.list.add(r, e, e.ctx.deadlineMono())
	}
	select {
	case <-r.ch: // completed, or abandoned by the deadline list
	case <-ctx.Done():
		if listed {
			r.list.remove(r)
			listed = false
		}
		if e.state.CompareAndSwap(envPending, envAbandoned) {
			s.putReply(r) // nothing will signal it
			return s.waitErr(ctx, e)
		}
		<-r.ch // completed, or abandoned by the deadline list, meanwhile
	}
	if listed {
		r.list.remove(r)
	}
	s.putReply(r)
	if e.state.Load() != envAbandoned {
		return e.err
	}
	return s.waitErr(ctx, e)
}

// waitErr is the error of a call abandoned by its caller: cancelled, or
// past its deadline.
func (s *Silo) waitErr(ctx context.Context, e *Envelope) error {
	return gaveUp(e, ctx.Err(), "no result by the deadline")
}

// gaveUp is the error of the call e whose caller gave up with err (its
// context's error; nil when the default deadline passed): CodeCanceled,
// wrapping err, when the context was cancelled, else CodeTimeout, saying
// late.
func gaveUp(e *Envelope, err error, late string) error {
	if err != nil && CodeOf(err) == CodeCanceled {
		return Errorf(CodeCanceled, "call %s.%s: %w", e.target, e.msg.Method().Name, err)
	}
	return Errorf(CodeTimeout, "call %s.%s: %s", e.target, e.msg.Method().Name, late)
}

// send queues a one-way message, here or in the process where its actor
// lives.
func (s *Silo) send(ctx context.Context, e *Envelope) error {
	p, err := s.home(e)
	if err == nil {
		err = s.admissible(e, chainOf(ctx) != nil, p != nil)
	}
	if err != nil {
		return s.drop(e, err)
	}
	if p != nil {
		return s.remote.post(ctx, e, p)
	}
	if s.admitters != nil {
		// The message carries no context of its own until it runs; its
		// admission sees the sender's deadline, cancellation and
		// propagated values, and is no link of a call chain.
		actx := newCallCtx(s, ctx, e, nil)
		err := s.admit(actx, e.msg)
		actx.finish()
		if err != nil {
			return s.drop(e, err)
		}
	}
	e.state.Store(envPending)
	for {
		switch _, r := s.route(e, false); r {
		case admitOverload:
			if ctx.Value(waitRoomKey{}) != nil && s.waitRoom(ctx) {
				continue
			}
			// One error per type: a flood of refusals allocates nothing.
			return s.drop(e, e.typ.fullErr)
		case admitStopped:
			return s.drop(e, errStopped(s, e))
		}
		return nil
	}
}

// waitRoomKey marks a context made by WaitForRoom.
type waitRoomKey struct{}

// WaitForRoom returns a context under which a one-way message (Ref.Send,
// a generated //quark:oneway method) for an actor of this silo whose
// mailbox is full waits for room, until ctx ends, rather than failing at
// once with CodeOverloaded. A message still without room when ctx ends
// fails with CodeOverloaded and is counted in Stats.DroppedOneWay, as one
// refused at once. Calls do not wait (a full mailbox fails a call with
// CodeOverloaded whatever its context), and a one-way message for an actor
// in another process is handed to the transport and never waits.
func WaitForRoom(ctx context.Context) context.Context {
	return context.WithValue(ctx, waitRoomKey{}, true)
}

// roomRecheck bounds how long a sender waiting for room sleeps without a
// signal: room can also appear without a queued message running (the
// activation went away, its messages forwarded).
const roomRecheck = 2 * time.Millisecond

// waitRoom waits until some mailbox of the silo may have gained room (a
// queued message started to run), or roomRecheck passes; it returns false
// when ctx ends first. The signal is silo-wide: there is no per-activation
// state, so actors pay nothing for it, and a woken sender that still
// finds its mailbox full waits again.
func (s *Silo) waitRoom(ctx context.Context) bool {
	s.roomMu.Lock()
	if s.room == nil {
		s.room = make(chan struct{})
	}
	room := s.room
	s.roomWaiters.Add(1)
	s.roomMu.Unlock()
	defer s.roomWaiters.Add(-1)
	t := time.NewTimer(roomRecheck)
	defer t.Stop()
	select {
	case <-room:
	case <-t.C:
	case <-ctx.Done():
		return false
	}
	return true
}

// roomMade wakes the senders waiting for room (see waitRoom).
func (s *Silo) roomMade() {
	s.roomMu.Lock()
	if s.room != nil {
		close(s.room)
		s.room = nil
	}
	s.roomMu.Unlock()
}

// oneWayFailed counts and logs (rate-limited) a one-way message whose
// method, or tick callback, failed.
func (s *Silo) oneWayFailed(e *Envelope, err error) {
	attrs := func() []slog.Attr { return describeMessage(e, err) }
	switch m := e.msg.(type) {
	case *reminderMessage:
		if !m.ran {
			// The tick did not reach ReceiveReminder (full mailbox, failed
			// activation): the reminder service retries it, or logs that it
			// gave up when the next tick fell due.
			return
		}
		s.callbackErrs.Add(1)
		s.callbackLog.note(s, attrs)
	case *tickMessage:
		s.callbackErrs.Add(1)
		s.callbackLog.note(s, attrs)
	default:
		s.dropped.Add(1)
		s.dropLog.note(s, attrs)
	}
}

// describeMessage returns the log attributes of a one-way message that
// failed with err.
func describeMessage(e *Envelope, err error) []slog.Attr {
	return []slog.Attr{slog.String("actor", e.target.String()),
		slog.String("method", e.msg.Method().Name), slog.Any("err", err)}
}

// drop counts, logs (rate-limited) and releases a one-way message that will
// not run.
func (s *Silo) drop(e *Envelope, err error) error {
	s.dropped.Add(1)
	// Described now, only if logged: e is released below.
	s.dropLog.note(s, func() []slog.Attr { return describeMessage(e, err) })
	e.state.Store(envDone)
	e.ctx.finish()
	s.unref(e)
	return err
}

// unref drops one reference to a one-way message, releasing it with the
// last.
func (s *Silo) unref(e *Envelope) {
	if e.refs.Add(-1) == 0 {
		m := e.msg
		e.reset()
		m.Release()
	}
}

// abandoned reports whether the caller of the queued message e gave up: a
// local caller marks the envelope, a remote one's record is marked (see
// remoteCall.abandon). Such a message does not run and is not completed.
func abandoned(e *Envelope) bool {
	return e.state.Load() == envAbandoned || e.rcall != nil && e.rcall.gone.Load()
}

// forward re-delivers a message that was queued on an activation that has
// since gone (it gets a new activation), or delivers a reminder tick: both
// are routed afresh, with no location-cache entry.
func (s *Silo) forward(e *Envelope) {
	if abandoned(e) {
		s.expired.Add(1)
		return
	}
	switch _, r := s.route(e, false); r {
	case admitOverload:
		s.complete(e, Errorf(CodeOverloaded, "call %s.%s: mailbox full (%d messages)",
			e.target, e.msg.Method().Name, e.typ.mailbox))
	case admitDiscarded:
		s.complete(e, errDiscarded(e))
	case admitStopped:
		s.complete(e, errStopped(s, e))
	}
}

// errStopped is the error of a message admitted while the silo ran but
// routed only after it stopped.
func errStopped(s *Silo, e *Envelope) error {
	return Errorf(CodeUnavailable, "call %s.%s: silo %q is stopped", e.target, e.msg.Method().Name, s.cfg.name)
}

// errDiscarded is the error of a call back into a reentrant activation that
// was discarded after a panic while the call's own chain waited on it: no
// turn starts there any more, and the chain's suspended turn waits for this
// very call, so it fails at once rather than at its deadline.
func errDiscarded(e *Envelope) error {
	return Errorf(CodeUnavailable, "call %s.%s: the activation was discarded after a panic while this call's chain waited on it",
		e.target, e.msg.Method().Name)
}

// complete finishes a queued message: it signals a waiting caller, or drops
// the result of one that gave up, or releases a one-way message. A failed
// timer or reminder tick is a callback error, any other failed one-way
// message a drop; both are counted and logged rate-limited.
func (s *Silo) complete(e *Envelope, err error) {
	e.ctx.finish()
	if e.rcall != nil {
		s.replyRemote(e, err)
		return
	}
	if e.oneWay {
		if err != nil {
			s.oneWayFailed(e, err)
		}
		s.unref(e)
		return
	}
	e.err = err
	if e.state.CompareAndSwap(envPending, envDone) {
		e.reply.ch <- struct{}{}
		return
	}
	s.late.Add(1)
}

// runQueued runs a message taken from the mailbox, unless its caller has gone
// or its deadline has passed, and ends its context. It returns the outcome
// and whether to complete the message: one whose caller gave up is not, and
// is not touched again. The turn is still held: the caller steps finish, then
// completes the message (after which it may be reused at once).
//
// ctxs hands out the contexts of one-way messages: they carry no deadline
// or values from the sender and get their context when they run. Unless
// the silo has propagators to run for it, that context is a handle whose
// callCtx is made only if the method uses it (see oneWayCtx).
func (a *Activation) runQueued(e *Envelope, ctxs *ctxSource) (err error, complete bool) {
	s := a.typ.silo
	if s.roomWaiters.Load() != 0 {
		s.roomMade() // e left the mailbox
	}
	if e.ctx == nil {
		if len(s.cfg.propagators) == 0 {
			h := ctxs.next(a, e)
			err = a.run(e, h)
			h.end()
			return err, true
		}
		e.ctx = newCallCtx(s, context.Background(), e, nil)
	}
	switch {
	case abandoned(e):
		s.expired.Add(1)
		e.ctx.finish()
		return nil, false
	case expired(e.ctx):
		s.expired.Add(1)
		err = Errorf(CodeTimeout, "call %s.%s: deadline passed while queued", e.target, e.msg.Method().Name)
	default:
		err = a.run(e, nil)
	}
	// Ended before the turn's end is stepped: see resume.
	e.ctx.finish()
	return err, true
}

// runBatch runs e and the one-way messages gathered behind it (linked
// through next; see turns.gather) one after another, in the turn e took,
// completing each but the last as it goes. It stops early, leaving the rest
// linked behind the message it stopped at, when the type's interrupts
// count has moved since epoch, read before the step that took e: a
// deactivation was asked for or a method panicked, and the machine must
// decide what runs next. It returns the last message run, whose turn is
// still held (the caller steps finish, which puts any rest back), and its
// outcome as runQueued returns it.
func (a *Activation) runBatch(e *Envelope, epoch uint32, ctxs *ctxSource) (last *Envelope, err error, complete bool) {
	s := a.typ.silo
	for {
		err, complete = a.runQueued(e, ctxs)
		next := e.next
		if next == nil || a.typ.interrupts.Load() != epoch {
			return e, err, complete
		}
		e.next = nil
		// The turn passes on with the drainer role: finish reads it from
		// the message the batch ends at.
		next.turn.drainer = true
		if complete {
			s.complete(e, err)
		}
		e = next
	}
}

// expired reports whether c's deadline is fixed and has passed. A default
// deadline not yet consulted (a one-way message) has not started.
func expired(c *callCtx) bool {
	d := c.deadline.Load()
	return d != 0 && mono() > d
}

// run calls the message's method with the turn held, turning a panic into an
// error and marking the activation for discard. The method's context is h
// when given (a one-way message), e.ctx otherwise.
func (a *Activation) run(e *Envelope, h *oneWayCtx) (err error) {
	e.act = a
	defer func() {
		if r := recover(); r != nil {
			err = a.panicked(e, r)
		}
	}()
	if h != nil {
		return a.typ.silo.in(h, e.msg)
	}
	e.ctx.act = a
	return a.typ.silo.in(e.ctx, e.msg)
}

// isolateArgs makes sure the callee will share no mutable memory with the
// caller through the arguments: it deep-copies them now, while the caller
// waits, or encodes them when calls are routed through the codec. Arguments
// that cannot be encoded (or copied) fail this call only, with
// CodeInvalidArgument.
func (s *Silo) isolateArgs(e *Envelope) error {
	what, verb := "copied", "call"
	if e.oneWay {
		verb = "send"
	}
	var err error
	if s.cfg.codecRouting {
		what = "encoded"
		e.wire, err = e.msg.AppendArgs(nil)
	} else {
		err = e.msg.CopyArgs()
	}
	if err != nil {
		e.wire = nil
		return Errorf(CodeInvalidArgument, "%s %s.%s: arguments cannot be %s: %w",
			verb, e.target, e.msg.Method().Name, what, err)
	}
	return nil
}

// invokeActor is the innermost incoming invoker.
func invokeActor(ctx context.Context, m Message) error {
	e := m.envelope()
	if e.wire != nil {
		return invokeThroughCodec(ctx, e)
	}
	err := m.Invoke(ctx, e.act.impl)
	if !e.oneWay {
		if cerr := m.CopyResults(); cerr != nil {
			// The method ran; only its answer cannot be handed over.
			return Errorf(CodeInvalidArgument, "call %s.%s: the method ran but its results cannot be copied: %w",
				e.target, m.Method().Name, cerr)
		}
	}
	return err
}

// invokeThroughCodec runs e as if it had come from another silo: the callee
// gets a fresh message decoded from the arguments' bytes, and the results and
// error come back through their encodings.
func invokeThroughCodec(ctx context.Context, e *Envelope) error {
	m := e.msg
	d := e.typ.desc
	if d.NewMessage == nil {
		return Errorf(CodeInternal, "call %s.%s: type %s has no message constructor", e.target, m.Method().Name, d.Name)
	}
	in := d.NewMessage(m.Method().ID)
	if in == nil {
		return Errorf(CodeNotFound, "call %s.%s: unknown method ID %#x", e.target, m.Method().Name, m.Method().ID)
	}
	defer in.Release()
	max := e.act.typ.silo.cfg.maxMessage
	if err := codec.CheckSize(e.wire, max); err != nil {
		return err
	}
	if err := in.ReadArgs(e.wire); err != nil {
		return err
	}
	err := in.Invoke(ctx, e.act.impl)
	if e.oneWay {
		return err
	}
	res, rerr := in.AppendResults(nil)
	if rerr != nil {
		// The method ran; only its answer cannot travel.
		return Errorf(CodeInvalidArgument, "call %s.%s: the method ran but its results cannot be encoded: %w",
			e.target, m.Method().Name, rerr)
	}
	if rerr := codec.CheckSize(res, max); rerr != nil {
		return rerr
	}
	if rerr := m.ReadResults(res); rerr != nil {
		return rerr
	}
	out, _, derr := codec.ReadError(codec.AppendError(nil, err))
	if derr != nil {
		return derr
	}
	return out
}

func (a *Activation) panicked(e *Envelope, r any) error {
	s := a.typ.silo
	s.log.Error("actor method panicked; activation discarded",
		slog.String("actor", a.id.String()), slog.String("method", e.msg.Method().Name),
		slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
	a.mu.Lock()
	q := a.turns.panicked()
	a.mu.Unlock()
	a.typ.interrupts.Add(1) // the drainer's batch stops here
	for q != nil {
		next := q.next
		q.next = nil
		s.complete(q, errDiscarded(q))
		q = next
	}
	return Errorf(CodePanic, "actor %s method %s panicked: %v", a.id, e.msg.Method().Name, r)
}

// requestDeactivation deactivates the activation now if it is idle, or
// marks it to deactivate when its current turns end.
func (a *Activation) requestDeactivation(reason DeactivationReason) {
	a.mu.Lock()
	now, recorded := a.turns.deactivate(reason)
	a.mu.Unlock()
	a.typ.interrupts.Add(1) // a batch running stops after its current message
	if now {
		a.deactivate(recorded)
	}
}

// collectIfIdle deactivates the activation if it has been idle since before
// cutoff, reporting whether it did.
func (a *Activation) collectIfIdle(cutoff int64) bool {
	a.mu.Lock()
	now := a.collect(cutoff)
	a.mu.Unlock()
	if now {
		a.deactivate(ReasonIdle)
	}
	return now
}

// deactivate runs OnDeactivate in the activation's last turn (held by the
// caller, with status deactivating), removes it from the catalog and
// forwards messages that arrived meanwhile to a new activation.
func (a *Activation) deactivate(reason DeactivationReason) {
	s := a.typ.silo
	if d, ok := a.impl.(Deactivator); ok && reason != reasonPanic {
		ctx := a.deactivationContext(reason)
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("OnDeactivate panicked", slog.String("actor", a.id.String()),
						slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
				}
			}()
			d.OnDeactivate(ctx, reason)
		}()
		ctx.finish()
	}
	a.typ.remove(a)
	a.mu.Lock()
	a.releaseOwnedLocked() // References may keep the activation; not the actor, its state or timers.
	q := a.closeLast()
	a.mu.Unlock()
	for q != nil {
		next := q.next
		q.next = nil
		if _, tick := q.msg.(*tickMessage); tick {
			s.complete(q, nil) // timers die with their activation
		} else {
			s.forward(q)
		}
		q = next
	}
	// Counted out only now: Stop must not see zero activations while
	// forwarded messages are on their way to a successor.
	s.activationGone()
}
