//! `ProfiledFunction`, the object `@profile` returns, as a hand-built type with the
//! vectorcall protocol.
//!
//! A PyO3 `__call__` goes through `tp_call`: CPython packs the arguments into a tuple (and a
//! dict), and each call costs a C recursion level, so a recursive profiled function hits
//! `RecursionError` at half the depth. A vectorcall callee receives the caller's argument
//! array as it is and passes it on unchanged, so the wrapper adds only the profiler's frame.
//! PyO3 cannot declare vectorcall on a `#[pyclass]`, hence this type is built with
//! `PyType_FromSpec` directly. Every `unsafe` block below states what it relies on.
//!
//! Per call, the wrapper opens and closes the frame with one thread-local lookup
//! (`perfcore::__private::call`; each lookup is a call into the dynamic loader in a shared
//! library), and calls a function, builtin or bound method through its own vectorcall entry
//! rather than through `PyObject_Vectorcall` (see `direct_offset`): together about 4 ns of
//! the ~46 ns the wrapper added (BENCHMARKS.md).

use std::ffi::{CStr, c_int, c_void};
use std::ptr;

use perfcore::__private::{self as raw, Outcome};
use perfcore::{Callsite, PerformanceProfiler};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::rawtype::{alloc_instance, free_instance, make_type, visit_each};
use crate::wrap::{
    Errors, Kind, ProfiledAsyncGenerator, ProfiledCoroutine, ProfiledGenerator, Resumable, Run,
};

/// `Py_TPFLAGS_HAVE_VECTORCALL`: the same bit in every CPython from 3.8 (in the limited API
/// from 3.12, which is why pyo3-ffi hides it from an abi3-py311 build).
const HAVE_VECTORCALL: std::ffi::c_ulong = 1 << 11;

// Exported by every CPython from 3.11 (declared in its headers outside the limited API, or in
// it only from 3.12, which is why pyo3-ffi leaves them out of an abi3-py311 build).
unsafe extern "C" {
    fn PyMethod_New(func: *mut ffi::PyObject, slf: *mut ffi::PyObject) -> *mut ffi::PyObject;
    fn PyObject_GenericGetDict(obj: *mut ffi::PyObject, ctx: *mut c_void) -> *mut ffi::PyObject;
    fn PyObject_Vectorcall(
        callable: *mut ffi::PyObject,
        args: *const *mut ffi::PyObject,
        nargsf: usize,
        kwnames: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject;
}

type VectorcallFn = unsafe extern "C" fn(
    *mut ffi::PyObject,
    *const *mut ffi::PyObject,
    usize,
    *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// The instance layout. `repr(C)` because CPython reads `vectorcall`, `dict` and `weaklist`
/// at the offsets the type's members declare.
#[repr(C)]
struct Object {
    base: ffi::PyObject,
    vectorcall: Option<VectorcallFn>,
    dict: *mut ffi::PyObject,
    weaklist: *mut ffi::PyObject,
    /// The wrapped callable (owned reference; null only while being built or cleared).
    func: *mut ffi::PyObject,
    /// Where `func` keeps its vectorcall entry, when it can be called directly (see
    /// [`direct_offset`]); 0 otherwise.
    direct: ffi::Py_ssize_t,
    /// Written right after allocation, before anything else can see the object (so never
    /// read as zeroed memory); taken in `dealloc`. Inline rather than boxed: a call reads it
    /// without a further pointer to chase.
    state: Option<State>,
}

/// What a call needs besides the function.
pub(crate) struct State {
    pub(crate) profiler: PerformanceProfiler,
    pub(crate) callsite: &'static Callsite,
    pub(crate) errors: Errors,
    pub(crate) kind: Kind,
    pub(crate) binding: Binding,
}

/// What the wrapper's `__get__` does: what the wrapped object's would, as a class attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// Binds to the instance, as a function does (`a.f` is `MethodType(f, a)`).
    Instance,
    /// Binds to the class, as the classmethod `type` makes of a function named
    /// `__init_subclass__` or `__class_getitem__` (it leaves other callables alone).
    Class,
    /// Never binds, as a builtin such as `len`, or the staticmethod `type` makes of a
    /// function named `__new__`.
    Never,
}

/// The head of CPython's `PyTypeObject`, which has kept this layout from 3.8 on (the
/// limited API hides the struct, so pyo3-ffi leaves it opaque in an abi3 build).
#[repr(C)]
struct TypeHead {
    base: ffi::PyVarObject,
    name: *const std::ffi::c_char,
    basicsize: ffi::Py_ssize_t,
    itemsize: ffi::Py_ssize_t,
    dealloc: *mut c_void,
    vectorcall_offset: ffi::Py_ssize_t,
}

/// Whether [`TypeHead`] matches the running interpreter: checked once, on our own type,
/// whose vectorcall offset and size we know.
fn type_head_matches(py: Python<'_>) -> bool {
    static MATCHES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MATCHES.get_or_init(|| {
        let Ok(ty) = type_object(py) else { return false };
        // SAFETY: every type object starts with this head (checked below on ours).
        let head = unsafe { &*ty.as_type_ptr().cast::<TypeHead>() };
        head.basicsize == std::mem::size_of::<Object>() as ffi::Py_ssize_t
            && head.itemsize == 0
            && head.vectorcall_offset == std::mem::offset_of!(Object, vectorcall) as ffi::Py_ssize_t
    })
}

/// Where `func` keeps its vectorcall entry, if the wrapper may call it there directly
/// rather than through `PyObject_Vectorcall`; 0 if not.
///
/// Only for objects of static types that declare vectorcall (Python functions, builtins,
/// bound methods): their type cannot change (`__class__` assignment needs heap types), so
/// the offset stays right; the entry itself is read at each call, so a function whose entry
/// is replaced later (`PyFunction_SetVectorcall`) is called through the new one, and a null
/// entry falls back to `PyObject_Vectorcall`.
fn direct_offset(func: &Bound<'_, PyAny>) -> ffi::Py_ssize_t {
    if !type_head_matches(func.py()) {
        return 0;
    }
    let ty = func.get_type();
    // SAFETY: a live type object; `type_head_matches` checked the head's layout.
    unsafe {
        let flags = ffi::PyType_GetFlags(ty.as_type_ptr());
        if flags & ffi::Py_TPFLAGS_HEAPTYPE != 0 || flags & HAVE_VECTORCALL == 0 {
            return 0;
        }
        (*ty.as_type_ptr().cast::<TypeHead>()).vectorcall_offset.max(0)
    }
}

/// Calls `func` with a vectorcall argument array.
///
/// # Safety
/// The GIL is held; `args`, `nargsf` and `kwnames` are as a vectorcall received them.
pub(crate) unsafe fn forward(
    func: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the caller's contract.
    unsafe { PyObject_Vectorcall(func, args, nargsf, kwnames) }
}

/// How a call that returned `out` ended; reads (does not clear) the pending exception.
///
/// # Safety
/// The GIL is held and `out` is the call's result.
unsafe fn outcome(errors: &Errors, out: *mut ffi::PyObject) -> Outcome {
    if out.is_null() {
        // SAFETY: the caller's contract; PyErr_Occurred returns a borrowed type or null.
        unsafe { errors.outcome_of_type(ffi::PyErr_Occurred()) }
    } else {
        Outcome::Ok
    }
}

/// Wraps a generator or coroutine object returned by the function in its profiled iterator.
fn wrap_result(py: Python<'_>, st: &State, result: *mut ffi::PyObject) -> *mut ffi::PyObject {
    if result.is_null() {
        return result;
    }
    // SAFETY: `result` is a new, non-null reference returned by the call; we take it over.
    let inner = unsafe { Bound::from_owned_ptr(py, result) }.unbind();
    let run = Run::new(st.profiler.clone(), st.callsite, st.errors.clone_ref(py));
    let r = Resumable::new(inner, run);
    let made = match st.kind {
        Kind::Generator => Bound::new(py, ProfiledGenerator::new(r)).map(Bound::into_any),
        Kind::AsyncGenerator => Bound::new(py, ProfiledAsyncGenerator::new(r)).map(Bound::into_any),
        _ => Bound::new(py, ProfiledCoroutine::new(r)).map(Bound::into_any),
    };
    match made {
        Ok(obj) => obj.into_ptr(),
        Err(e) => {
            e.restore(py);
            ptr::null_mut()
        }
    }
}

/// One profiled call: `call` invokes the wrapped function.
///
/// # Safety
/// `slf` is a live `Object` and the GIL is held.
#[inline(always)]
unsafe fn profiled(
    slf: *mut ffi::PyObject,
    call: impl FnOnce(*mut ffi::PyObject) -> *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: the caller's contract: `slf` is an initialised `Object` (so `state` is set),
    // the GIL is held.
    unsafe {
        let obj = slf.cast::<Object>();
        let (func, st) = ((*obj).func, (*obj).state.as_ref().unwrap_unchecked());
        let py = Python::assume_attached();
        if func.is_null() {
            // Cleared by the collector, and called from a finalizer in the same cycle.
            pyo3::exceptions::PyReferenceError::new_err("the profiled function was cleared")
                .restore(py);
            return ptr::null_mut();
        }
        if st.kind != Kind::Plain {
            return wrap_result(py, st, call(func));
        }
        raw::call(&st.profiler, st.callsite, || {
            let out = call(func);
            (out, outcome(&st.errors, out))
        })
    }
}

/// The type's vectorcall entry.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`, and `args`, `nargsf` and
/// `kwnames` a valid vectorcall argument array.
unsafe extern "C" fn vectorcall(
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance of our type and a valid argument array; a
    // non-zero `direct` is where `func`'s type keeps its (nullable) vectorcall entry.
    unsafe {
        let direct = (*slf.cast::<Object>()).direct;
        profiled(slf, |func| {
            if direct > 0 {
                let entry = *func.cast::<u8>().offset(direct).cast::<Option<VectorcallFn>>();
                if let Some(entry) = entry {
                    return entry(func, args, nargsf, kwnames);
                }
            }
            forward(func, args, nargsf, kwnames)
        })
    }
}

/// `tp_call`: the same call, for callers that pack arguments (`PyObject_Call`).
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`, `args` a tuple and `kwargs`
/// a dict or null.
unsafe extern "C" fn tp_call(
    slf: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
    kwargs: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance, an argument tuple and a dict or null.
    unsafe { profiled(slf, |func| ffi::PyObject_Call(func, args, kwargs)) }
}

/// `__get__` of a wrapper that binds like a function: `instance.method` is
/// `MethodType(self, instance)`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`, `obj` null or a live
/// object.
unsafe extern "C" fn descr_get(
    slf: *mut ffi::PyObject,
    obj: *mut ffi::PyObject,
    _owner: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance; `obj` is null or a live object.
    unsafe {
        if obj.is_null() || obj == ffi::Py_None() {
            ffi::Py_INCREF(slf);
            return slf;
        }
        PyMethod_New(slf, obj)
    }
}

/// `__get__` of the other wrappers ([`Binding::Class`] and [`Binding::Never`]).
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`, `obj` and `owner` null or
/// live objects.
unsafe extern "C" fn descr_get_other(
    slf: *mut ffi::PyObject,
    obj: *mut ffi::PyObject,
    owner: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance of our type; `obj` and `owner` are null or live.
    unsafe {
        let st = (*slf.cast::<Object>()).state.as_ref();
        if st.is_some_and(|st| st.binding == Binding::Class) {
            let class =
                if owner.is_null() && !obj.is_null() { ffi::Py_TYPE(obj).cast() } else { owner };
            if !class.is_null() {
                return PyMethod_New(slf, class);
            }
        }
        ffi::Py_INCREF(slf);
        slf
    }
}

/// `tp_traverse`: the references a cycle can run through.
///
/// # Safety
/// CPython calls it with the GIL held (during a collection), `slf` a live `ProfiledFunction`.
unsafe extern "C" fn traverse(
    slf: *mut ffi::PyObject,
    visit: ffi::visitproc,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: CPython passes a live instance of our type; its fields are null or owned.
    unsafe {
        let obj = slf.cast::<Object>();
        let classes = match (*obj).state.as_ref().map(|s| &s.errors) {
            Some(Errors::Only(classes)) => classes.as_ptr(),
            _ => ptr::null_mut(),
        };
        visit_each([ffi::Py_TYPE(slf).cast(), (*obj).func, (*obj).dict, classes], visit, arg)
    }
}

/// `tp_clear`: drops the references a cycle can run through.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction` (called by the collector, or
/// by `dealloc`).
unsafe extern "C" fn clear(slf: *mut ffi::PyObject) -> c_int {
    // SAFETY: CPython (or dealloc) passes a live instance; each field is taken before its
    // reference is released, so re-entrant code never sees a dangling pointer.
    unsafe {
        let obj = slf.cast::<Object>();
        for p in [&raw mut (*obj).func, &raw mut (*obj).dict] {
            let old = std::mem::replace(&mut *p, ptr::null_mut());
            ffi::Py_XDECREF(old);
        }
        // The classes `errors=` names, released through a `Bound` (see `dealloc`).
        if let Some(st) = (*obj).state.as_mut()
            && let Errors::Only(classes) = std::mem::replace(&mut st.errors, Errors::All)
        {
            drop(classes.into_bound(Python::assume_attached()));
        }
        0
    }
}

/// `tp_dealloc`.
///
/// # Safety
/// CPython calls it with the GIL held once, when the last reference to `slf`, a `ProfiledFunction`,
/// is gone.
unsafe extern "C" fn dealloc(slf: *mut ffi::PyObject) {
    // SAFETY: called once, when the last reference is gone: untrack, release the fields,
    // free the memory with the type's tp_free, then drop the instance's type reference.
    unsafe {
        ffi::PyObject_GC_UnTrack(slf.cast());
        let obj = slf.cast::<Object>();
        if !(*obj).weaklist.is_null() {
            ffi::PyObject_ClearWeakRefs(slf);
        }
        clear(slf);
        // The classes `errors=` names are released through a `Bound`: a `Py` dropped here
        // would be queued (see `fastscope::clear_error`).
        if let Some(State { errors: Errors::Only(classes), .. }) = (*obj).state.take() {
            drop(classes.into_bound(Python::assume_attached()));
        }
        free_instance(slf);
    }
}

/// `tp_repr`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`.
unsafe extern "C" fn repr(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance with the GIL held.
    unsafe {
        let obj = slf.cast::<Object>();
        let py = Python::assume_attached();
        let name = (*obj).state.as_ref().map_or("?", |s| s.callsite.name());
        let text = format!("<profiled function {name}>");
        pyo3::types::PyString::new(py, &text).into_ptr()
    }
}

/// The getter of `__profile_name__`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`.
unsafe extern "C" fn get_profile_name(
    slf: *mut ffi::PyObject,
    _: *mut c_void,
) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance with the GIL held.
    unsafe {
        let obj = slf.cast::<Object>();
        let py = Python::assume_attached();
        let name = (*obj).state.as_ref().map_or("", |s| s.callsite.name());
        pyo3::types::PyString::new(py, name).into_ptr()
    }
}

/// The getter of `__dict__`.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction`.
unsafe extern "C" fn get_dict(slf: *mut ffi::PyObject, ctx: *mut c_void) -> *mut ffi::PyObject {
    // SAFETY: the type declares `__dictoffset__`, which PyObject_GenericGetDict reads.
    unsafe { PyObject_GenericGetDict(slf, ctx) }
}

/// `__reduce__`: pickled (and copied) by reference, as a function is: the pickle names the
/// wrapper's module and qualified name, and loading it looks that name up (so a decorated
/// module-level function or method goes to `multiprocessing` workers like a plain one).
///
/// # Safety
/// CPython calls it with the GIL held, `slf` a live `ProfiledFunction` (a `METH_NOARGS` method
/// bound to it).
unsafe extern "C" fn reduce(slf: *mut ffi::PyObject, _: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython calls methods with the GIL held on a live instance; the result is a
    // new reference or null with an exception set.
    unsafe { ffi::PyObject_GetAttrString(slf, c"__qualname__".as_ptr()) }
}

const DOC: &CStr = c"A function decorated with perfcore's @profile: calling it records one call.";

/// The two wrapper types: `ProfiledFunction`, which binds like a function (and is a method
/// descriptor, so `obj.method(...)` calls it without making a bound method), and a subtype
/// for the wrappers of everything else, whose `__get__` follows [`Binding`]. The flag that
/// lets CPython skip `__get__` belongs to a type, not an instance, hence two types.
struct Types {
    function: Py<PyType>,
    other: Py<PyType>,
}

/// The types, made on first use.
fn types(py: Python<'_>) -> PyResult<&Types> {
    static TYPES: PyOnceLock<Types> = PyOnceLock::new();
    TYPES.get_or_try_init(py, || {
        let flags = ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_HAVE_GC | HAVE_VECTORCALL;
        let function = make_type(
            py,
            spec(flags | ffi::Py_TPFLAGS_METHOD_DESCRIPTOR | ffi::Py_TPFLAGS_BASETYPE, descr_get),
            None,
        )?;
        let other = make_type(py, spec(flags, descr_get_other), Some(function.bind(py)))?;
        Ok::<_, PyErr>(Types { function, other })
    })
}

/// The type `ProfiledFunction`.
fn type_object(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    types(py).map(|t| t.function.bind(py))
}

/// A type spec with these flags and `__get__`; it and all it points to live for the process
/// (CPython keeps pointers to them).
fn spec(flags: std::ffi::c_ulong, get: ffi::descrgetfunc) -> &'static mut ffi::PyType_Spec {
    let offset = |field: usize| field as ffi::Py_ssize_t;
    let base = std::mem::offset_of!(Object, vectorcall);
    let members: &'static mut [ffi::PyMemberDef] = Box::leak(Box::new([
        member(c"__vectorcalloffset__", offset(base)),
        member(c"__dictoffset__", offset(std::mem::offset_of!(Object, dict))),
        member(c"__weaklistoffset__", offset(std::mem::offset_of!(Object, weaklist))),
        // SAFETY: an all-zero PyMemberDef is the array's terminator.
        unsafe { std::mem::zeroed() },
    ]));
    let getset: &'static mut [ffi::PyGetSetDef] = Box::leak(Box::new([
        ffi::PyGetSetDef {
            name: c"__profile_name__".as_ptr(),
            get: Some(get_profile_name),
            set: None,
            doc: c"The name snapshots list this function under.".as_ptr(),
            closure: ptr::null_mut(),
        },
        ffi::PyGetSetDef {
            name: c"__dict__".as_ptr(),
            get: Some(get_dict),
            set: None,
            doc: ptr::null(),
            closure: ptr::null_mut(),
        },
        // SAFETY: an all-zero PyGetSetDef is the array's terminator.
        unsafe { std::mem::zeroed() },
    ]));
    let methods: &'static mut [ffi::PyMethodDef] = Box::leak(Box::new([
        ffi::PyMethodDef {
            ml_name: c"__reduce__".as_ptr(),
            ml_meth: ffi::PyMethodDefPointer { PyCFunction: reduce },
            ml_flags: ffi::METH_NOARGS,
            ml_doc: c"Pickles the function by reference, as a plain function is.".as_ptr(),
        },
        ffi::PyMethodDef::zeroed(),
    ]));
    let slot = |slot: c_int, pfunc: *mut c_void| ffi::PyType_Slot { slot, pfunc };
    let slots: &'static mut [ffi::PyType_Slot] = Box::leak(Box::new([
        slot(ffi::Py_tp_call, tp_call as *mut c_void),
        slot(ffi::Py_tp_methods, methods.as_mut_ptr().cast()),
        slot(ffi::Py_tp_descr_get, get as *mut c_void),
        slot(ffi::Py_tp_traverse, traverse as *mut c_void),
        slot(ffi::Py_tp_clear, clear as *mut c_void),
        slot(ffi::Py_tp_dealloc, dealloc as *mut c_void),
        slot(ffi::Py_tp_repr, repr as *mut c_void),
        slot(ffi::Py_tp_members, members.as_mut_ptr().cast()),
        slot(ffi::Py_tp_getset, getset.as_mut_ptr().cast()),
        slot(ffi::Py_tp_doc, DOC.as_ptr() as *mut c_void),
        slot(0, ptr::null_mut()),
    ]));
    Box::leak(Box::new(ffi::PyType_Spec {
        name: c"perfcore._perfcore.ProfiledFunction".as_ptr(),
        basicsize: std::mem::size_of::<Object>() as c_int,
        itemsize: 0,
        flags: flags as std::ffi::c_uint,
        slots: slots.as_mut_ptr(),
    }))
}

fn member(name: &'static CStr, offset: ffi::Py_ssize_t) -> ffi::PyMemberDef {
    ffi::PyMemberDef {
        name: name.as_ptr(),
        type_code: ffi::Py_T_PYSSIZET,
        offset,
        flags: ffi::Py_READONLY,
        doc: ptr::null(),
    }
}

/// Adds the type to the module as `ProfiledFunction`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ProfiledFunction", type_object(m.py())?)
}

/// A new `ProfiledFunction` calling `func`, with `dict` as its `__dict__`.
pub(crate) fn new<'py>(
    py: Python<'py>,
    func: &Bound<'py, PyAny>,
    state: State,
    dict: Bound<'py, pyo3::types::PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    let types = types(py)?;
    let ty = if state.binding == Binding::Instance { &types.function } else { &types.other };
    let slf = alloc_instance(ty.bind(py))?;
    // SAFETY: a zeroed instance of our type, `Object`-sized; every field is set before anyone
    // else sees it.
    unsafe {
        let obj = slf.as_ptr().cast::<Object>();
        (*obj).vectorcall = Some(vectorcall);
        (*obj).func = func.clone().into_ptr();
        (*obj).dict = dict.into_ptr();
        (*obj).direct = direct_offset(func);
        ptr::write(&raw mut (*obj).state, Some(state));
        Ok(slf)
    }
}

/// What a `ProfiledFunction` wraps.
pub(crate) struct Unwrapped<'py> {
    pub(crate) func: Bound<'py, PyAny>,
    pub(crate) callsite: &'static Callsite,
    pub(crate) kind: Kind,
    pub(crate) binding: Binding,
}

/// What a `ProfiledFunction` wraps; `None` for anything else.
pub(crate) fn unwrap<'py>(obj: &Bound<'py, PyAny>) -> Option<Unwrapped<'py>> {
    let types = types(obj.py()).ok()?;
    let ty = obj.get_type();
    if !ty.is(&types.function) && !ty.is(&types.other) {
        return None;
    }
    // SAFETY: `obj` is an instance of our type, alive while borrowed; its fields are set at
    // creation (`func` may be null only after a GC clear, checked).
    unsafe {
        let o = obj.as_ptr().cast::<Object>();
        let st = (*o).state.as_ref()?;
        let func = (*o).func;
        if func.is_null() {
            return None;
        }
        Some(Unwrapped {
            func: Bound::from_borrowed_ptr(obj.py(), func),
            callsite: st.callsite,
            kind: st.kind,
            binding: st.binding,
        })
    }
}
