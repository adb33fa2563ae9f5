//! The native wrappers `@profile` returns: one for plain callables, and iterators that time
//! generators and coroutines resumption by resumption.

use perfcore::__private::{Outcome, ResumableCall};
use perfcore::{Callsite, PerformanceProfiler};
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration, PyStopIteration};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit, intern};

/// Which exceptions count as errors of the decorated function (`errors=`).
#[derive(Debug)]
pub(crate) enum Errors {
    /// Every `Exception` (the default, `errors=True`).
    All,
    /// None (`errors=False`).
    Never,
    /// Instances of these classes (`errors=ValueError` or a tuple of classes).
    Only(Py<PyAny>),
}

impl Errors {
    /// How a call that raised `err` ended; see [`Self::outcome_of_type`].
    pub(crate) fn outcome(&self, py: Python<'_>, err: &PyErr) -> Outcome {
        // SAFETY: the GIL is held and the type object is alive while `err` is.
        unsafe { self.outcome_of_type(err.get_type(py).as_ptr()) }
    }

    /// How a call that raised an exception of class `exc_type` ended. Exceptions that are not
    /// `Exception`s (`KeyboardInterrupt`, `SystemExit`, `GeneratorExit`,
    /// `asyncio.CancelledError`) end it as cancelled: the call was interrupted, it did not
    /// fail. A null `exc_type` (no exception known) reads as cancelled too.
    ///
    /// # Safety
    /// The GIL is held; `exc_type` is null or a live object.
    pub(crate) unsafe fn outcome_of_type(&self, exc_type: *mut pyo3::ffi::PyObject) -> Outcome {
        use pyo3::ffi::{PyErr_GivenExceptionMatches, PyExc_Exception};
        // SAFETY: the caller's contract; both functions only read their arguments.
        unsafe {
            if exc_type.is_null() || PyErr_GivenExceptionMatches(exc_type, PyExc_Exception) == 0 {
                return Outcome::Cancelled;
            }
            let failed = match self {
                Errors::All => true,
                Errors::Never => false,
                Errors::Only(classes) => {
                    PyErr_GivenExceptionMatches(exc_type, classes.as_ptr()) != 0
                }
            };
            if failed { Outcome::Failed } else { Outcome::Ok }
        }
    }

    /// Lets the garbage collector see the classes `errors=` names.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        match self {
            Errors::Only(classes) => visit.call(classes),
            _ => Ok(()),
        }
    }

    pub(crate) fn clone_ref(&self, py: Python<'_>) -> Self {
        match self {
            Errors::All => Errors::All,
            Errors::Never => Errors::Never,
            Errors::Only(c) => Errors::Only(c.clone_ref(py)),
        }
    }
}

/// What a decorated function is, which decides how its calls are timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A call is the time until it returns.
    Plain,
    /// A call is the generator's life, from first `next()` to exhaustion.
    Generator,
    /// A call is the coroutine's life, from first `send()` to its result.
    Coroutine,
    /// A call is the async generator's life, from its first step to exhaustion.
    AsyncGenerator,
}

/// `inner.send(value)`: the value it yields, or StopIteration carrying its return value.
fn send<'py>(inner: &Bound<'py, PyAny>, value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = inner.py();
    let mut result = std::ptr::null_mut();
    // PyIter_Send resumes a generator or coroutine without looking its `send` method up,
    // packing arguments, or raising StopIteration inside.
    // SAFETY: the GIL is held; `inner` and `value` are live; `result` receives a new
    // reference (or null on error).
    let status = unsafe { pyo3::ffi::PyIter_Send(inner.as_ptr(), value.as_ptr(), &mut result) };
    match status {
        // It yielded `result`.
        // SAFETY: a new reference.
        pyo3::ffi::PySendResult::PYGEN_NEXT => Ok(unsafe { Bound::from_owned_ptr(py, result) }),
        // It returned `result`; a one-element tuple so that a returned tuple
        // is not taken for StopIteration's arguments.
        pyo3::ffi::PySendResult::PYGEN_RETURN => {
            // SAFETY: a new reference.
            let value = unsafe { Bound::from_owned_ptr(py, result) };
            Err(PyStopIteration::new_err((value.unbind(),)))
        }
        // The exception is pending.
        pyo3::ffi::PySendResult::PYGEN_ERROR => Err(PyErr::fetch(py)),
    }
}

/// One call of a generator or coroutine, timed across its resumptions by the core's
/// [`ResumableCall`] (wall time from the first resumption to the end, busy time the sum of
/// the resumptions; dropped unfinished, recorded as cancelled), and which of its exceptions
/// count as errors.
#[derive(Debug)]
pub(crate) struct Run {
    /// Taken out while a resumption runs, so that the wrapper is not borrowed meanwhile: a
    /// resumption from inside that one finds it gone and runs untimed, and the inner
    /// generator raises its own `ValueError: generator already executing`.
    call: Option<ResumableCall>,
    errors: Errors,
}

impl Run {
    pub(crate) fn new(
        profiler: PerformanceProfiler,
        callsite: &'static Callsite,
        errors: Errors,
    ) -> Self {
        Self { call: Some(ResumableCall::new(profiler, callsite)), errors }
    }

    /// How the call ends if a resumption raised `e`: `None` if it does not end it (an
    /// exception of class `step_done`: an async generator's `__anext__` awaitable finishing
    /// with StopIteration, an item); an exception of class `end` (`StopIteration`,
    /// `StopAsyncIteration`) is its normal end; any other ends it as `errors=` says.
    fn outcome_of(
        &self,
        py: Python<'_>,
        e: &PyErr,
        end: &Bound<'_, PyType>,
        step_done: Option<&Bound<'_, PyType>>,
    ) -> Option<Outcome> {
        if step_done.is_some_and(|t| e.is_instance(py, t)) {
            None
        } else if e.is_instance(py, end) {
            Some(Outcome::Ok)
        } else {
            Some(self.errors.outcome(py, e))
        }
    }

    /// Ends the call (if it is not running, and not over) with `outcome`.
    fn finish(&mut self, outcome: Outcome) {
        if let Some(call) = &mut self.call {
            call.finish(outcome);
        }
    }
}

/// A wrapped generator, coroutine or async generator and the call it is timing: what the
/// profiled iterators below share.
///
/// No borrow of a wrapper is ever held while Python code runs (each method copies what it
/// needs out, then calls), so a generator resuming or closing itself, a finalizer, or the
/// garbage collector's traversal always finds the wrapper free.
#[derive(Debug)]
pub(crate) struct Resumable {
    /// The wrapped object; `None` once the garbage collector has cleared the wrapper.
    inner: Option<Py<PyAny>>,
    run: Run,
}

impl Resumable {
    pub(crate) fn new(inner: Py<PyAny>, run: Run) -> Self {
        Self { inner: Some(inner), run }
    }

    fn inner<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match &self.inner {
            Some(inner) => Ok(inner.bind(py).clone()),
            None => Err(PyRuntimeError::new_err("the profiled object was cleared")),
        }
    }

    fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.inner)?;
        self.run.errors.traverse(visit)
    }

    /// Drops the references a cycle can run through; the call, if unfinished, is recorded
    /// as cancelled (as when the wrapper is freed).
    fn clear(&mut self) {
        self.run.finish(Outcome::Cancelled);
        self.run.errors = Errors::All;
        self.inner = None;
    }
}

/// The wrapper classes that hold a [`Resumable`].
trait HasResumable: pyo3::PyClass<Frozen = pyo3::pyclass::boolean_struct::False> {
    fn resumable(&mut self) -> &mut Resumable;
}

/// `f(target)`, timed as one resumption of `owner`'s call (`target` is `owner`'s inner
/// object when `None`); see [`Run::outcome_of`] for `end` and `step_done`.
fn resume<'py, C: HasResumable>(
    owner: &Bound<'py, C>,
    target: Option<&Bound<'py, PyAny>>,
    end: &Bound<'py, PyType>,
    step_done: Option<&Bound<'py, PyType>>,
    f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = owner.py();
    let (target, call) = {
        let mut this = owner.try_borrow_mut()?;
        let r = this.resumable();
        let target = match target {
            Some(t) => t.clone(),
            None => r.inner(py)?,
        };
        (target, r.run.call.take())
    };
    let Some(mut call) = call else { return f(&target) };
    let out = call.resume(|| f(&target));
    let mut this = owner.try_borrow_mut()?;
    let run = &mut this.resumable().run;
    if let Err(e) = &out
        && let Some(outcome) = run.outcome_of(py, e, end, step_done)
    {
        call.finish(outcome);
    }
    run.call = Some(call);
    out
}

/// `owner`'s inner object, copied out of the borrow.
fn inner_of<'py, C: HasResumable>(owner: &Bound<'py, C>) -> PyResult<Bound<'py, PyAny>> {
    owner.try_borrow_mut()?.resumable().inner(owner.py())
}

/// `inner.send(value)`, timed as one resumption that StopIteration ends normally.
fn send_timed<'py, C: HasResumable>(
    slf: &Bound<'py, C>,
    value: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    resume(slf, None, &py.get_type::<PyStopIteration>(), None, |inner| send(inner, value))
}

/// `inner.throw(*args)`, timed as one resumption.
fn throw_timed<'py, C: HasResumable>(
    slf: &Bound<'py, C>,
    args: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = slf.py();
    resume(slf, None, &py.get_type::<PyStopIteration>(), None, |inner| {
        inner.call_method1(intern!(py, "throw"), args)
    })
}

/// Calls the inner `close` (or `aclose`); a call closed before it finished is recorded as
/// cancelled.
fn close<'py, C: HasResumable>(
    slf: &Bound<'py, C>,
    method: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    let out = inner_of(slf)?.call_method0(method);
    slf.try_borrow_mut()?.resumable().run.finish(Outcome::Cancelled);
    out
}

/// An attribute of the inner object (`gi_frame`, `cr_await`, ...), for `inspect` and friends.
fn forward<'py, C: HasResumable>(
    slf: &Bound<'py, C>,
    name: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    inner_of(slf)?.getattr(name)
}

fn repr<C: HasResumable>(slf: &Bound<'_, C>) -> PyResult<String> {
    Ok(format!("<profiled {}>", inner_of(slf)?.repr()?))
}

/// The `#[pymethods]` every wrapper shares: garbage collection, `__repr__`, and the
/// attributes `inspect` reads, forwarded to the inner object.
macro_rules! resumable_methods {
    ($class:ident { $($attr:ident),* $(,)? } $($methods:tt)*) => {
        impl HasResumable for $class {
            fn resumable(&mut self) -> &mut Resumable {
                &mut self.0
            }
        }

        #[pymethods]
        impl $class {
            fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
                self.0.traverse(&visit)
            }

            fn __clear__(&mut self) {
                self.0.clear();
            }

            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                repr(slf)
            }

            $(
                #[getter]
                fn $attr<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
                    forward(slf, intern!(slf.py(), stringify!($attr)))
                }
            )*

            $($methods)*
        }
    };
}

/// A generator returned by a `@profile`d generator function. One call is the generator's
/// life; each `next()`/`send()`/`throw()` is a resumption, timed as busy time.
#[pyclass(module = "perfcore._perfcore", weakref)]
pub struct ProfiledGenerator(Resumable);

impl ProfiledGenerator {
    pub(crate) fn new(r: Resumable) -> Self {
        Self(r)
    }
}

resumable_methods!(ProfiledGenerator {
    __name__,
    __qualname__,
    gi_code,
    gi_frame,
    gi_running,
    gi_suspended,
    gi_yieldfrom,
}
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        send_timed(slf, &slf.py().None().into_bound(slf.py()))
    }

    fn send<'py>(slf: &Bound<'py, Self>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        send_timed(slf, &value)
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        throw_timed(slf, args)
    }

    /// Closes the generator; a generator closed before it was exhausted is recorded as
    /// cancelled.
    fn close<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        close(slf, intern!(slf.py(), "close"))
    }
);

/// A coroutine returned by a `@profile`d `async def`. One call is the coroutine's life, from
/// its first resumption to its result; the time spent running (between awaits) is its busy
/// time. Cancelled (its task cancelled, or it is closed or dropped unfinished): recorded as
/// cancelled.
#[pyclass(module = "perfcore._perfcore", weakref)]
pub struct ProfiledCoroutine(Resumable);

impl ProfiledCoroutine {
    pub(crate) fn new(r: Resumable) -> Self {
        Self(r)
    }
}

resumable_methods!(ProfiledCoroutine {
    __name__,
    __qualname__,
    cr_await,
    cr_code,
    cr_frame,
    cr_origin,
    cr_running,
    cr_suspended,
}
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        send_timed(slf, &slf.py().None().into_bound(slf.py()))
    }

    fn send<'py>(slf: &Bound<'py, Self>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        send_timed(slf, &value)
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        throw_timed(slf, args)
    }

    /// Closes the coroutine; one closed before it finished is recorded as cancelled.
    fn close<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        close(slf, intern!(slf.py(), "close"))
    }
);

/// An async generator returned by a `@profile`d `async def` with `yield`. One call is the
/// generator's life, from its first step to exhaustion; each resumption inside an
/// `__anext__`/`asend`/`athrow` awaitable is busy time. Closed or dropped unfinished: recorded
/// as cancelled.
#[pyclass(module = "perfcore._perfcore", weakref)]
pub struct ProfiledAsyncGenerator(Resumable);

impl ProfiledAsyncGenerator {
    pub(crate) fn new(r: Resumable) -> Self {
        Self(r)
    }
}

resumable_methods!(ProfiledAsyncGenerator {
    __name__,
    __qualname__,
    ag_await,
    ag_code,
    ag_frame,
    ag_running,
    ag_suspended,
}
    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__(slf: &Bound<'_, Self>) -> PyResult<ProfiledAsyncStep> {
        step(slf, intern!(slf.py(), "__anext__"), ())
    }

    fn asend(slf: &Bound<'_, Self>, value: Bound<'_, PyAny>) -> PyResult<ProfiledAsyncStep> {
        step(slf, intern!(slf.py(), "asend"), (value,))
    }

    #[pyo3(signature = (*args))]
    fn athrow(slf: &Bound<'_, Self>, args: &Bound<'_, PyTuple>) -> PyResult<ProfiledAsyncStep> {
        step(slf, intern!(slf.py(), "athrow"), args)
    }

    /// Closes the generator (an awaitable); one closed before it was exhausted is recorded as
    /// cancelled.
    fn aclose<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        close(slf, intern!(slf.py(), "aclose"))
    }
);

/// Wraps the awaitable `method(*args)` of the inner async generator returns.
fn step<'py>(
    slf: &Bound<'py, ProfiledAsyncGenerator>,
    method: &Bound<'py, PyString>,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<ProfiledAsyncStep> {
    let awaitable = inner_of(slf)?.call_method1(method, args)?;
    Ok(ProfiledAsyncStep { owner: Some(slf.clone().unbind()), awaitable: Some(awaitable.unbind()) })
}

/// One step of a profiled async generator: the awaitable `__anext__`, `asend` or `athrow`
/// returns. Its resumptions are the generator's busy time.
#[pyclass(module = "perfcore._perfcore")]
pub struct ProfiledAsyncStep {
    /// `None` (both) once the garbage collector has cleared the step.
    owner: Option<Py<ProfiledAsyncGenerator>>,
    awaitable: Option<Py<PyAny>>,
}

impl ProfiledAsyncStep {
    /// The generator and the awaitable, copied out of the borrow.
    fn parts<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, ProfiledAsyncGenerator>, Bound<'py, PyAny>)> {
        let py = slf.py();
        let this = slf.try_borrow()?;
        match (&this.owner, &this.awaitable) {
            (Some(o), Some(a)) => Ok((o.bind(py).clone(), a.bind(py).clone())),
            _ => Err(PyRuntimeError::new_err("the profiled step was cleared")),
        }
    }

    fn resume<'py>(
        slf: &Bound<'py, Self>,
        f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let (owner, awaitable) = Self::parts(slf)?;
        let end = py.get_type::<PyStopAsyncIteration>();
        let item = py.get_type::<PyStopIteration>();
        resume(&owner, Some(&awaitable), &end, Some(&item), f)
    }
}

#[pymethods]
impl ProfiledAsyncStep {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        Self::resume(slf, |a| send(a, &py.None().into_bound(py)))
    }

    fn send<'py>(slf: &Bound<'py, Self>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        Self::resume(slf, |a| send(a, &value))
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        slf: &Bound<'py, Self>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        Self::resume(slf, |a| a.call_method1(intern!(py, "throw"), args))
    }

    fn close<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Self::parts(slf)?.1.call_method0(intern!(slf.py(), "close"))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.owner)?;
        visit.call(&self.awaitable)
    }

    fn __clear__(&mut self) {
        self.owner = None;
        self.awaitable = None;
    }
}
