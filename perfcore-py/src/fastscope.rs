//! `Scope`, the context manager `profiler.scope(name)` returns, as a hand-built type: a `with`
//! statement looks `__enter__` and `__exit__` up on every entry, and for a PyO3 class that
//! makes (and frees) two bound method objects each time, which costs about as much as the
//! profiling itself; this type hands out bound methods made once per scope.
//!
//! Where a scope is opened decides how it is timed:
//! - No asyncio event loop running on the thread: the block opens a frame on the thread's
//!   stack like any Rust scope (calls inside it are its children, self time excludes them).
//! - Inside a running event loop: the block may span `await`s while other tasks run on the
//!   thread, so it must follow its task, not the thread. Its start is kept in a context
//!   variable, which asyncio gives each task its own copy of; on exit one call is recorded
//!   with the block's wall time, under whatever scope encloses the exit (the `@profile`d
//!   coroutine, when there is one). Calls inside the block are then not its children.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::ptr;

use perfcore::__private::{self as raw, Frame, Outcome};
use perfcore::{Callsite, PerformanceProfiler};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::rawtype::{MethodDefs, alloc_instance, drop_box, free_instance, make_type, visit_each};
use crate::wrap::Errors;

// Exported by every CPython from 3.7 (outside the limited API; see fastcall.rs).
unsafe extern "C" {
    fn PyContextVar_New(name: *const c_char, default: *mut ffi::PyObject) -> *mut ffi::PyObject;
    fn PyContextVar_Get(
        var: *mut ffi::PyObject,
        default: *mut ffi::PyObject,
        value: *mut *mut ffi::PyObject,
    ) -> c_int;
    fn PyContextVar_Set(var: *mut ffi::PyObject, value: *mut ffi::PyObject) -> *mut ffi::PyObject;
}

#[repr(C)]
struct Object {
    base: ffi::PyObject,
    /// Owned; freed in `dealloc`.
    state: *mut State,
    /// `__enter__` and `__exit__` bound to this object, made once (owned; null until first
    /// asked for, and after a GC clear). A `with` statement looks both up on every entry;
    /// CPython would otherwise make (and free) two bound method objects each time.
    bound: [*mut ffi::PyObject; 2],
}

struct State {
    profiler: PerformanceProfiler,
    callsite: &'static Callsite,
}

thread_local! {
    /// Frames of the blocks open on this thread outside event loops, innermost last, with
    /// the callsite each belongs to (`None`: profiling was off, nothing to close).
    static OPEN: RefCell<Vec<(usize, Option<Frame>)>> = const { RefCell::new(Vec::new()) };
    /// Blocks entered inside an event loop on this thread and not exited yet. While it is 0
    /// (always, in code without asyncio), `__exit__` need not ask whether a loop runs.
    static ASYNC_OPEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A block open inside an event loop: a link of the task's chain of open blocks.
#[pyclass(module = "perfcore._perfcore", name = "_AsyncBlock", frozen)]
pub(crate) struct AsyncBlock {
    callsite: usize,
    start_raw: u64,
    outer: Option<Py<AsyncBlock>>,
}

// Traversal only: a chain of blocks links each to an older one, so no cycle runs through it.
#[pymethods]
impl AsyncBlock {
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit.call(&self.outer)
    }
}

/// The globals the hot path needs: the context variable, and asyncio's running-loop getter
/// once asyncio is imported (by the program: perfcore never imports it).
struct Globals {
    var: Py<PyAny>,
    asyncio_events: Py<pyo3::types::PyString>,
    get_running_loop: PyOnceLock<Py<PyAny>>,
}

fn globals(py: Python<'_>) -> PyResult<&Globals> {
    static G: PyOnceLock<Globals> = PyOnceLock::new();
    G.get_or_try_init(py, || {
        // SAFETY: a NUL-terminated name and a null default; returns a new reference or null.
        let var = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                PyContextVar_New(c"perfcore_open_blocks".as_ptr(), ptr::null_mut()),
            )?
        };
        Ok::<_, PyErr>(Globals {
            var: var.unbind(),
            asyncio_events: pyo3::types::PyString::intern(py, "asyncio.events").unbind(),
            get_running_loop: PyOnceLock::new(),
        })
    })
}

/// asyncio's `_get_running_loop` (the C accelerator's where CPython has it), once the program
/// has imported asyncio; `None` before: no event loop can be running then.
fn running_loop_getter<'a>(py: Python<'_>, g: &'a Globals) -> Option<&'a Py<PyAny>> {
    if let Some(f) = g.get_running_loop.get(py) {
        return Some(f);
    }
    // SAFETY: the GIL is held; returns a new reference, or null (absent, or an error).
    let module = unsafe { ffi::PyImport_GetModule(g.asyncio_events.as_ptr()) };
    if module.is_null() {
        clear_error();
        return None;
    }
    // SAFETY: a new reference.
    let module = unsafe { Bound::from_owned_ptr(py, module) };
    match module.getattr("_get_running_loop") {
        Ok(f) => Some(g.get_running_loop.get_or_init(py, || f.unbind())),
        Err(e) => {
            e.restore(py);
            clear_error();
            None
        }
    }
}

/// Clears the pending exception, if any, without taking it into a `PyErr`.
///
/// The hand-built types' slots run with the GIL held but unknown to PyO3 (they are entered
/// from CPython directly, not through PyO3's trampolines): a `Py` dropped there is queued
/// for a later decref rather than released, so their paths release what they own through
/// `Bound` or the C API, never by dropping a `Py` (or a `PyErr`, which holds some).
fn clear_error() {
    // SAFETY: the GIL is held by every caller (slots of our types).
    unsafe { ffi::PyErr_Clear() }
}

/// Whether an asyncio event loop runs on this thread (an error reads as no).
fn in_event_loop(py: Python<'_>, g: &Globals) -> bool {
    let Some(f) = running_loop_getter(py, g) else { return false };
    // SAFETY: the GIL is held; a call with no arguments passes an empty argument array.
    let lp = unsafe { crate::fastcall::forward(f.as_ptr(), ptr::null(), 0, ptr::null_mut()) };
    if lp.is_null() {
        clear_error();
        return false;
    }
    // SAFETY: `lp` is a new reference.
    let lp = unsafe { Bound::from_owned_ptr(py, lp) };
    !lp.is_none()
}

/// The state of the scope `slf`.
///
/// # Safety
/// `slf` is a live `Scope`, and the reference is not used past its deallocation.
unsafe fn state<'a>(slf: *mut ffi::PyObject) -> &'a State {
    // SAFETY: the caller's contract; `state` is set at creation and lives until dealloc.
    unsafe { &*(*slf.cast::<Object>()).state }
}

/// Reads the task's chain of open blocks (a new reference, or None).
fn current_chain<'py>(py: Python<'py>, g: &Globals) -> PyResult<Option<Bound<'py, AsyncBlock>>> {
    let mut value = ptr::null_mut();
    // SAFETY: `var` is a context variable; `value` receives a new reference or null.
    if unsafe { PyContextVar_Get(g.var.as_ptr(), ptr::null_mut(), &mut value) } < 0 {
        return Err(PyErr::fetch(py));
    }
    if value.is_null() {
        return Ok(None);
    }
    // SAFETY: `value` is a new reference.
    let obj = unsafe { Bound::from_owned_ptr(py, value) };
    Ok(obj.cast_into::<AsyncBlock>().ok())
}

fn set_chain(py: Python<'_>, g: &Globals, value: &Bound<'_, PyAny>) -> PyResult<()> {
    // SAFETY: `var` is a context variable, `value` a live object; the token returned is a
    // new reference we do not need.
    let token = unsafe { PyContextVar_Set(g.var.as_ptr(), value.as_ptr()) };
    // SAFETY: a new reference or null with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, token) }.map(drop)
}

fn enter(py: Python<'_>, st: &State) -> PyResult<()> {
    let g = globals(py)?;
    let id = std::ptr::from_ref(st.callsite) as usize;
    if in_event_loop(py, g) {
        let outer = current_chain(py, g)?.map(Bound::unbind);
        let block = AsyncBlock { callsite: id, start_raw: raw::now(&st.profiler), outer };
        set_chain(py, g, Bound::new(py, block)?.as_any())?;
        let _ = ASYNC_OPEN.try_with(|n| n.set(n.get() + 1));
        return Ok(());
    }
    let frame = raw::open(&st.profiler, st.callsite);
    let _ = OPEN.try_with(|open| open.borrow_mut().push((id, frame)));
    Ok(())
}

fn exit(py: Python<'_>, st: &State, exc_type: *mut ffi::PyObject) -> PyResult<()> {
    // SAFETY: `Py_None` only returns the address of `None`.
    let outcome = if exc_type.is_null() || exc_type == unsafe { ffi::Py_None() } {
        Outcome::Ok
    } else {
        // SAFETY: the GIL is held; `exc_type` is a live object (an argument of `__exit__`).
        unsafe { Errors::All.outcome_of_type(exc_type) }
    };
    let id = std::ptr::from_ref(st.callsite) as usize;
    let async_open = ASYNC_OPEN.try_with(std::cell::Cell::get).unwrap_or(0);
    let g = if async_open > 0 { Some(globals(py)?) } else { None };
    if let Some(g) = g.filter(|g| in_event_loop(py, g)) {
        // The innermost open block of this scope in this task, and the chain outside it.
        let mut link = current_chain(py, g)?;
        while let Some(block) = link {
            let b = block.get();
            if b.callsite == id {
                let outer = match &b.outer {
                    Some(o) => o.bind(py).clone().into_any(),
                    None => py.None().into_bound(py),
                };
                set_chain(py, g, &outer)?;
                let _ = ASYNC_OPEN.try_with(|n| n.set(n.get().saturating_sub(1)));
                let wall = raw::ns_since(&st.profiler, b.start_raw);
                raw::record_resumable(&st.profiler, st.callsite, wall, wall, 0, outcome);
                return Ok(());
            }
            link = b.outer.as_ref().map(|o| o.bind(py).clone());
        }
        // Not found: the block was entered before the loop started; close it below.
    }
    let frame = OPEN
        .try_with(|open| {
            let mut open = open.borrow_mut();
            let at = open.iter().rposition(|(s, _)| *s == id)?;
            open.remove(at).1
        })
        .ok()
        .flatten();
    if let Some(frame) = frame {
        raw::close(&st.profiler, frame, outcome);
    }
    Ok(())
}

/// Restores `r`'s error as the pending exception; returns what the C API expects.
fn to_c(py: Python<'_>, r: PyResult<*mut ffi::PyObject>) -> *mut ffi::PyObject {
    match r {
        Ok(p) => p,
        Err(e) => {
            e.restore(py);
            ptr::null_mut()
        }
    }
}

/// `__enter__`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `Scope` (a `METH_NOARGS` method bound to it).
unsafe extern "C" fn enter_c(slf: *mut ffi::PyObject, _: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the GIL held.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: the caller's contract.
    let st = unsafe { state(slf) };
    to_c(py, enter(py, st).map(|()| py.None().into_ptr()))
}

/// `__exit__(exc_type, exc, tb)`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `Scope` and `nargs` valid arguments at `args`
/// (a `METH_FASTCALL` method bound to it).
unsafe extern "C" fn exit_c(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the GIL held.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: a METH_FASTCALL method gets `nargs` valid arguments at `args`.
    let exc_type = if nargs >= 1 { unsafe { *args } } else { ptr::null_mut() };
    // Never swallow the exception: return False.
    to_c(
        py,
        // SAFETY: the caller's contract.
        exit(py, unsafe { state(slf) }, exc_type)
            .map(|()| pyo3::types::PyBool::new(py, false).to_owned().into_any().into_ptr()),
    )
}

/// `tp_dealloc`.
///
/// # Safety
/// CPython calls it with the GIL held once, when the last reference to `slf`, a `Scope`, is gone.
unsafe extern "C" fn dealloc(slf: *mut ffi::PyObject) {
    // SAFETY: called once, when the last reference is gone: untrack, release the bound
    // methods, drop the state, then free.
    unsafe {
        ffi::PyObject_GC_UnTrack(slf.cast());
        clear(slf);
        drop_box(&raw mut (*slf.cast::<Object>()).state);
        free_instance(slf);
    }
}

/// `tp_traverse`.
///
/// # Safety
/// CPython calls it with the GIL held (during a collection), `slf` a live `Scope`.
unsafe extern "C" fn traverse(
    slf: *mut ffi::PyObject,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: CPython passes a live instance; its bound methods are null or owned (each
    // holds a reference back to the instance: the cycle the GC breaks).
    unsafe {
        let [enter, exit] = (*slf.cast::<Object>()).bound;
        visit_each([ffi::Py_TYPE(slf).cast(), enter, exit], visit, arg)
    }
}

/// `tp_clear`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `Scope` (called by the collector, or by
/// `dealloc`).
unsafe extern "C" fn clear(slf: *mut ffi::PyObject) -> c_int {
    // SAFETY: a live instance; each field is nulled before its reference is released.
    unsafe {
        for p in &mut (*slf.cast::<Object>()).bound {
            let old = std::mem::replace(p, ptr::null_mut());
            ffi::Py_XDECREF(old);
        }
        0
    }
}

/// The getter of `__enter__` (`which` 0) or `__exit__` (1): this object's bound method,
/// made on first use.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `Scope` and `which` 0 or 1 (the closure its
/// getset entries give).
unsafe extern "C" fn get_bound(slf: *mut ffi::PyObject, which: *mut c_void) -> *mut ffi::PyObject {
    let which = which as usize;
    // SAFETY: CPython calls getters with the GIL held on a live instance; `which` is the
    // closure the getset table gives (0 or 1); the definitions live for the process.
    unsafe {
        let field = &raw mut (*slf.cast::<Object>()).bound[which];
        if (*field).is_null() {
            let made = ffi::PyCFunction_NewEx(method_defs().get(which), slf, ptr::null_mut());
            if made.is_null() {
                return made;
            }
            // Allocating may run the collector, and finalizers may let another thread in
            // here first: keep the first one made.
            if (*field).is_null() {
                *field = made;
            } else {
                ffi::Py_DECREF(made);
            }
        }
        ffi::Py_INCREF(*field);
        *field
    }
}

/// `tp_repr`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `Scope`.
unsafe extern "C" fn repr(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls slots with the GIL held.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: the caller's contract.
    let text = format!("<perfcore scope {:?}>", unsafe { state(slf) }.callsite.name());
    pyo3::types::PyString::new(py, &text).into_ptr()
}

/// The getter of `name`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `Scope`.
unsafe extern "C" fn get_name(slf: *mut ffi::PyObject, _: *mut c_void) -> *mut ffi::PyObject {
    // SAFETY: CPython calls getters with the GIL held.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: the caller's contract.
    pyo3::types::PyString::new(py, unsafe { state(slf) }.callsite.name()).into_ptr()
}

const DOC: &CStr = c"with profiler.scope(\"name\"): times the block as one call of name. An \
exception leaving the block counts as an error (a KeyboardInterrupt or other non-Exception, \
as cancelled) and is not swallowed.";

/// The definitions `__enter__` and `__exit__` are bound from.
static METHODS: std::sync::OnceLock<MethodDefs<2>> = std::sync::OnceLock::new();

fn method_defs() -> &'static MethodDefs<2> {
    METHODS.get_or_init(|| {
        // SAFETY: CPython calls each method through the signature its flags name, and a
        // function pointer's size does not depend on its signature.
        let exit_ptr = unsafe {
            std::mem::transmute::<
                unsafe extern "C" fn(
                    *mut ffi::PyObject,
                    *const *mut ffi::PyObject,
                    ffi::Py_ssize_t,
                ) -> *mut ffi::PyObject,
                ffi::PyCFunction,
            >(exit_c)
        };
        MethodDefs([
            ffi::PyMethodDef {
                ml_name: c"__enter__".as_ptr(),
                ml_meth: ffi::PyMethodDefPointer { PyCFunction: enter_c },
                ml_flags: ffi::METH_NOARGS,
                ml_doc: ENTER_DOC.as_ptr(),
            },
            ffi::PyMethodDef {
                ml_name: c"__exit__".as_ptr(),
                ml_meth: ffi::PyMethodDefPointer { PyCFunction: exit_ptr },
                ml_flags: ffi::METH_FASTCALL,
                ml_doc: EXIT_DOC.as_ptr(),
            },
        ])
    })
}

const ENTER_DOC: &CStr = c"__enter__($self, /)\n--\n\nOpens the block.";
const EXIT_DOC: &CStr =
    c"__exit__($self, exc_type, exc=None, tb=None, /)\n--\n\nCloses the block; never swallows \
the exception.";

fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TYPE.get_or_try_init(py, || {
        method_defs();
        let getter = |name: &'static CStr, get: ffi::getter, doc: &'static CStr, which: usize| {
            ffi::PyGetSetDef {
                name: name.as_ptr(),
                get: Some(get),
                set: None,
                doc: doc.as_ptr(),
                closure: which as *mut c_void,
            }
        };
        // `__enter__` and `__exit__` are getters rather than methods, so that they hand out
        // the object's bound methods made once (see `Object::bound`).
        let getset: &'static mut [ffi::PyGetSetDef] = Box::leak(Box::new([
            getter(c"name", get_name, c"The scope's name.", 0),
            getter(c"__enter__", get_bound, ENTER_DOC, 0),
            getter(c"__exit__", get_bound, EXIT_DOC, 1),
            // SAFETY: an all-zero PyGetSetDef is the array's terminator.
            unsafe { std::mem::zeroed() },
        ]));
        let slot = |slot: c_int, pfunc: *mut c_void| ffi::PyType_Slot { slot, pfunc };
        let slots: &'static mut [ffi::PyType_Slot] = Box::leak(Box::new([
            slot(ffi::Py_tp_dealloc, dealloc as *mut c_void),
            slot(ffi::Py_tp_traverse, traverse as *mut c_void),
            slot(ffi::Py_tp_clear, clear as *mut c_void),
            slot(ffi::Py_tp_repr, repr as *mut c_void),
            slot(ffi::Py_tp_getset, getset.as_mut_ptr().cast()),
            slot(ffi::Py_tp_doc, DOC.as_ptr() as *mut c_void),
            slot(0, ptr::null_mut()),
        ]));
        let spec: &'static mut ffi::PyType_Spec = Box::leak(Box::new(ffi::PyType_Spec {
            name: c"perfcore._perfcore.Scope".as_ptr(),
            basicsize: std::mem::size_of::<Object>() as c_int,
            itemsize: 0,
            flags: (ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_HAVE_GC) as std::ffi::c_uint,
            slots: slots.as_mut_ptr(),
        }));
        make_type(py, spec, None)
    })
    .map(|t| t.bind(py))
}

/// Adds the type to the module as `Scope`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AsyncBlock>()?;
    m.add("Scope", type_object(m.py())?)
}

/// A new scope object of `callsite` on `profiler`.
pub(crate) fn new<'py>(
    py: Python<'py>,
    profiler: PerformanceProfiler,
    callsite: &'static Callsite,
) -> PyResult<Bound<'py, PyAny>> {
    let slf = alloc_instance(type_object(py)?)?;
    // SAFETY: a zeroed instance of our type, `Object`-sized; `state` is set before anyone
    // else sees the object.
    unsafe {
        (*slf.as_ptr().cast::<Object>()).state =
            Box::into_raw(Box::new(State { profiler, callsite }));
        Ok(slf)
    }
}
