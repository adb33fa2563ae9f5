//! The native wrappers `@profile` returns: one for plain callables, and iterators that time
//! generators and coroutines resumption by resumption.

use perfcore::__private::{self as raw, Outcome};
use perfcore::{Callsite, PerformanceProfiler};
use pyo3::exceptions::PyStopIteration;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

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

/// One call of a generator or coroutine, timed across its resumptions: wall time from the
/// first resumption to the end, busy time the sum of the resumptions. Dropped (or closed)
/// after starting but before finishing, it records the call as cancelled.
#[derive(Debug)]
pub(crate) struct Run {
    profiler: PerformanceProfiler,
    callsite: &'static Callsite,
    errors: Errors,
    first_raw: Option<u64>,
    busy_ns: u64,
    child_ns: u64,
    done: bool,
}

impl Run {
    pub(crate) fn new(
        profiler: PerformanceProfiler,
        callsite: &'static Callsite,
        errors: Errors,
    ) -> Self {
        Self { profiler, callsite, errors, first_raw: None, busy_ns: 0, child_ns: 0, done: false }
    }

    /// Runs one resumption `f` of the wrapped iterator. An exception of class `end` is the
    /// normal end (`StopIteration`, `StopAsyncIteration`); any other ends the call too.
    fn resume<'py, T>(
        &mut self,
        py: Python<'py>,
        end: &Bound<'py, pyo3::types::PyType>,
        f: impl FnOnce() -> PyResult<T>,
    ) -> PyResult<T> {
        self.resume_step(py, end, None, f)
    }

    /// [`Self::resume`] where an exception of class `step_done` ends only this step (an
    /// async generator's `__anext__` awaitable finishing with StopIteration: an item).
    fn resume_step<'py, T>(
        &mut self,
        py: Python<'py>,
        end: &Bound<'py, pyo3::types::PyType>,
        step_done: Option<&Bound<'py, pyo3::types::PyType>>,
        f: impl FnOnce() -> PyResult<T>,
    ) -> PyResult<T> {
        if self.done {
            return f();
        }
        if self.first_raw.is_none() {
            self.first_raw = Some(raw::now(&self.profiler));
        }
        let frame = raw::open(&self.profiler, self.callsite);
        let out = f();
        if let Some((busy, child)) = frame.and_then(|fr| raw::close_resume(&self.profiler, fr)) {
            self.busy_ns += busy;
            self.child_ns += child;
        }
        if let Err(e) = &out
            && !step_done.is_some_and(|t| e.is_instance(py, t))
        {
            let outcome =
                if e.is_instance(py, end) { Outcome::Ok } else { self.errors.outcome(py, e) };
            self.finish(outcome);
        }
        out
    }

    fn finish(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        if let Some(first) = self.first_raw {
            let wall = raw::ns_since(&self.profiler, first);
            raw::record_resumable(
                &self.profiler,
                self.callsite,
                wall,
                self.busy_ns,
                self.child_ns,
                outcome,
            );
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled);
    }
}

/// A wrapped generator, coroutine or async generator and the call it is timing: what the
/// profiled iterators below share.
#[derive(Debug)]
pub(crate) struct Resumable {
    inner: Py<PyAny>,
    run: Run,
}

impl Resumable {
    pub(crate) fn new(inner: Py<PyAny>, run: Run) -> Self {
        Self { inner, run }
    }

    /// `f(inner)`, timed as one resumption that StopIteration ends normally.
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.bind(py).clone();
        self.run.resume(py, &py.get_type::<PyStopIteration>(), || f(&inner))
    }

    /// `inner.send(value)`, timed as one resumption.
    fn send<'py>(
        &mut self,
        py: Python<'py>,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.step(py, |inner| send(inner, value))
    }

    /// `inner.throw(*args)`, timed as one resumption.
    fn throw<'py>(
        &mut self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.step(py, |inner| inner.call_method1(intern!(py, "throw"), args))
    }

    /// Calls the inner `close` (or `aclose`); a call closed before it finished is recorded
    /// as cancelled.
    fn close<'py>(
        &mut self,
        py: Python<'py>,
        method: &Bound<'py, pyo3::types::PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = self.inner.bind(py).call_method0(method);
        self.run.finish(Outcome::Cancelled);
        out
    }

    fn repr(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<profiled {}>", self.inner.bind(py).repr()?))
    }
}

/// A generator returned by a `@profile`d generator function. One call is the generator's
/// life; each `next()`/`send()`/`throw()` is a resumption, timed as busy time.
#[pyclass(module = "perfcore._perfcore")]
pub struct ProfiledGenerator(Resumable);

impl ProfiledGenerator {
    pub(crate) fn new(r: Resumable) -> Self {
        Self(r)
    }
}

#[pymethods]
impl ProfiledGenerator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.send(py, &py.None().into_bound(py))
    }

    fn send<'py>(
        &mut self,
        py: Python<'py>,
        value: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.0.send(py, &value)
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        &mut self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.0.throw(py, args)
    }

    /// Closes the generator; a generator closed before it was exhausted is recorded as
    /// cancelled.
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.close(py, intern!(py, "close"))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.0.repr(py)
    }
}

/// A coroutine returned by a `@profile`d `async def`. One call is the coroutine's life, from
/// its first resumption to its result; the time spent running (between awaits) is its busy
/// time. Cancelled (its task cancelled, or it is closed or dropped unfinished): recorded as
/// cancelled.
#[pyclass(module = "perfcore._perfcore")]
pub struct ProfiledCoroutine(Resumable);

impl ProfiledCoroutine {
    pub(crate) fn new(r: Resumable) -> Self {
        Self(r)
    }
}

#[pymethods]
impl ProfiledCoroutine {
    fn __await__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.send(py, &py.None().into_bound(py))
    }

    fn send<'py>(
        &mut self,
        py: Python<'py>,
        value: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.0.send(py, &value)
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        &mut self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.0.throw(py, args)
    }

    /// Closes the coroutine; one closed before it finished is recorded as cancelled.
    fn close<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.close(py, intern!(py, "close"))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.0.repr(py)
    }
}

/// An async generator returned by a `@profile`d `async def` with `yield`. One call is the
/// generator's life, from its first step to exhaustion; each resumption inside an
/// `__anext__`/`asend`/`athrow` awaitable is busy time. Closed or dropped unfinished: recorded
/// as cancelled.
#[pyclass(module = "perfcore._perfcore")]
pub struct ProfiledAsyncGenerator(Resumable);

impl ProfiledAsyncGenerator {
    pub(crate) fn new(r: Resumable) -> Self {
        Self(r)
    }
}

/// Wraps the awaitable `method(*args)` of the inner async generator returns.
fn step<'py>(
    slf: &Bound<'py, ProfiledAsyncGenerator>,
    method: &Bound<'py, pyo3::types::PyString>,
    args: impl pyo3::call::PyCallArgs<'py>,
) -> PyResult<ProfiledAsyncStep> {
    let awaitable = slf.borrow().0.inner.bind(slf.py()).call_method1(method, args)?;
    Ok(ProfiledAsyncStep { owner: slf.clone().unbind(), awaitable: awaitable.unbind() })
}

#[pymethods]
impl ProfiledAsyncGenerator {
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
    fn aclose<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0.close(py, intern!(py, "aclose"))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        self.0.repr(py)
    }
}

/// One step of a profiled async generator: the awaitable `__anext__`, `asend` or `athrow`
/// returns. Its resumptions are the generator's busy time.
#[pyclass(module = "perfcore._perfcore")]
pub struct ProfiledAsyncStep {
    owner: Py<ProfiledAsyncGenerator>,
    awaitable: Py<PyAny>,
}

impl ProfiledAsyncStep {
    fn resume<'py>(
        &self,
        py: Python<'py>,
        f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let awaitable = self.awaitable.bind(py).clone();
        let end = py.get_type::<pyo3::exceptions::PyStopAsyncIteration>();
        let item = py.get_type::<PyStopIteration>();
        let mut owner = self.owner.bind(py).try_borrow_mut()?;
        owner.0.run.resume_step(py, &end, Some(&item), || f(&awaitable))
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

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.resume(py, |a| send(a, &py.None().into_bound(py)))
    }

    fn send<'py>(&self, py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.resume(py, |a| send(a, &value))
    }

    #[pyo3(signature = (*args))]
    fn throw<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.resume(py, |a| a.call_method1(intern!(py, "throw"), args))
    }

    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.awaitable.bind(py).call_method0(intern!(py, "close"))
    }
}
