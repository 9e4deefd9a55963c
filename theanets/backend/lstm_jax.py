"""JAX translations of the fused LSTM loop operations (``jax.lax.scan``).

The LSTM layer builds ``scan`` in the ``'jax'`` mode, but a graph built in
the ``'c'`` or ``'python'`` mode (``net.loss()``, ``net.build_graph()``)
holds :class:`~theanets.backend.lstm.LSTMLoop`; with these translations it
compiles in the JAX mode too. :func:`register` is called by
:func:`theanets.backend.compile` before compiling in that mode (importing
JAX only then).
"""

from .lstm import LSTMLoop, LSTMLoopGrad

_state = {'registered': False}


def register():
    """Register the translations with PyTensor's JAX backend, once."""
    if _state['registered']:
        return
    import jax
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    def sigmoid(x):
        return 1 / (1 + jnp.exp(-x))

    def options(op, z, hh, rest):
        peep = rest[0] if op.peepholes else jnp.zeros((3, hh.shape[0]),
                                                        z.dtype)
        valid = rest[-1] if op.masked else jnp.ones(z.shape[:2], z.dtype)
        return peep, valid

    @jax_funcify.register(LSTMLoop)
    def _loop(op, **kwargs):
        def loop(z, b, hh, h0, c0, *rest):
            peep, valid = options(op, z, hh, rest)
            nh = hh.shape[0]

            def step(carry, xs):
                h, c = carry
                zt, vt = xs
                a = zt + b + h @ hh
                i = sigmoid(a[:, :nh] + c * peep[0])
                f = sigmoid(a[:, nh:2 * nh] + c * peep[1])
                g = jnp.tanh(a[:, 2 * nh:3 * nh])
                c_new = f * c + i * g
                o = sigmoid(a[:, 3 * nh:] + c_new * peep[2])
                tc = jnp.tanh(c_new)
                keep = vt[:, None] != 0
                h_new = jnp.where(keep, o * tc, h)
                c_new = jnp.where(keep, c_new, c)
                gates = jnp.concatenate([i, f, g, o], axis=1)
                return (h_new, c_new), (h_new, c_new, gates,
                                        jnp.where(keep, tc, 0))

            _, outs = jax.lax.scan(step, (h0, c0), (z, valid))
            return outs
        return loop

    @jax_funcify.register(LSTMLoopGrad)
    def _grad(op, **kwargs):
        def grad(hh, h0, c0, *rest):
            cs, gs, tcs, dh, dc = rest[-5:]
            peep, valid = options(op, gs, hh, rest[:-5])
            nh = hh.shape[0]
            prev_c = jnp.concatenate([c0[None], cs[:-1]], axis=0)

            def step(carry, xs):
                hc, cc = carry
                g4, tc, c, cp, dht, dct, vt = xs
                Dh, Dc = dht + hc, dct + cc
                i, f = g4[:, :nh], g4[:, nh:2 * nh]
                g, o = g4[:, 2 * nh:3 * nh], g4[:, 3 * nh:]
                dao = Dh * tc * o * (1 - o)
                dcn = Dc + Dh * o * (1 - tc * tc) + dao * peep[2]
                dai = dcn * g * i * (1 - i)
                daf = dcn * cp * f * (1 - f)
                dag = dcn * i * (1 - g * g)
                keep = vt[:, None] != 0
                da = jnp.where(keep, jnp.concatenate(
                    [dai, daf, dag, dao], axis=1), 0)
                dp = jnp.stack([
                    (jnp.where(keep, dai, 0) * cp).sum(0),
                    (jnp.where(keep, daf, 0) * cp).sum(0),
                    (jnp.where(keep, dao, 0) * c).sum(0)])
                cc = jnp.where(keep, dcn * f + dai * peep[0] + daf * peep[1],
                               Dc)
                hc = jnp.where(keep, da @ hh.T, Dh)
                return (hc, cc), (da, dp)

            (dh0, dc0), (dz, dps) = jax.lax.scan(
                step, (jnp.zeros_like(h0), jnp.zeros_like(c0)),
                (gs, tcs, cs, prev_c, dh, dc, valid), reverse=True)
            out = (dz, dz.sum(axis=(0, 1)), dh0, dc0)
            return out + (dps.sum(0),) if op.peepholes else out
        return grad

    _state['registered'] = True
