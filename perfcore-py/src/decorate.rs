//! Applying `@profile`: what the decorated object is, its callsite, and the wrapper's
//! metadata (what `functools.wraps` copies).
//!
//! Decorators applied inside functions pay this at every call of those functions, so it
//! reads a plain Python function's code object directly (rather than asking `inspect`),
//! passes the callsite's strings to `Callsite::intern` borrowed, and builds the wrapper's
//! `__dict__` in one go (rather than running `functools.update_wrapper`).

use perfcore::Callsite;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple, PyType};

use crate::fastcall::{self, Binding};
use crate::wrap::{Errors, Kind};

/// What `errors=` says counts as an error of the decorated function.
pub(crate) fn errors_arg(py: Python<'_>, errors: &Bound<'_, PyAny>) -> PyResult<Errors> {
    if let Ok(b) = errors.cast::<pyo3::types::PyBool>() {
        return Ok(if b.is_true() { Errors::All } else { Errors::Never });
    }
    let base = py.get_type::<pyo3::exceptions::PyBaseException>();
    let ok_class = |c: &Bound<'_, PyAny>| {
        c.cast::<PyType>().is_ok_and(|t| t.is_subclass(&base).unwrap_or(false))
    };
    let valid = if let Ok(t) = errors.cast::<PyTuple>() {
        t.iter().all(|c| ok_class(&c))
    } else {
        ok_class(errors)
    };
    if !valid {
        return Err(PyTypeError::new_err(format!(
            "errors= takes True, False, an exception class or a tuple of them, not {}",
            errors.repr()?
        )));
    }
    Ok(Errors::Only(errors.clone().unbind()))
}

/// Python objects looked up once.
struct Globals {
    function_type: Py<PyType>,
    /// `types.BuiltinFunctionType` (`len`, `math.sqrt`): never a generator or coroutine
    /// function.
    builtin_type: Py<PyType>,
    classmethod: Py<PyType>,
    staticmethod: Py<PyType>,
    /// `functools.WRAPPER_ASSIGNMENTS`: what `functools.wraps` copies on this version.
    assignments: Py<PyTuple>,
}

fn globals(py: Python<'_>) -> PyResult<&Globals> {
    static G: PyOnceLock<Globals> = PyOnceLock::new();
    G.get_or_try_init(py, || {
        let builtins = py.import("builtins")?;
        let class = |m: &Bound<'_, PyModule>, name: &str| -> PyResult<Py<PyType>> {
            Ok(m.getattr(name)?.cast_into::<PyType>()?.unbind())
        };
        Ok::<_, PyErr>(Globals {
            function_type: class(&py.import("types")?, "FunctionType")?,
            builtin_type: class(&py.import("types")?, "BuiltinFunctionType")?,
            classmethod: class(&builtins, "classmethod")?,
            staticmethod: class(&builtins, "staticmethod")?,
            assignments: py
                .import("functools")?
                .getattr("WRAPPER_ASSIGNMENTS")?
                .cast_into::<PyTuple>()?
                .unbind(),
        })
    })
}

/// Whether `func` is a plain Python function (`types.FunctionType`, not a subclass).
pub(crate) fn is_function(func: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(func.get_type().is(globals(func.py())?.function_type.bind(func.py())))
}

/// What `inspect` says `func` is.
pub(crate) fn kind_of(py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<Kind> {
    if is_function(func)? && !has_attributes(func)? {
        // What `inspect` reads of a plain function: its code's flags (from 3.12 also a
        // marker attribute, which a function without attributes cannot have).
        const CO_GENERATOR: u32 = 0x20;
        const CO_COROUTINE: u32 = 0x80;
        const CO_ASYNC_GENERATOR: u32 = 0x200;
        let code = func.getattr(intern!(py, "__code__"))?;
        let flags: u32 = code.getattr(intern!(py, "co_flags"))?.extract()?;
        return Ok(if flags & CO_COROUTINE != 0 {
            Kind::Coroutine
        } else if flags & CO_ASYNC_GENERATOR != 0 {
            Kind::AsyncGenerator
        } else if flags & CO_GENERATOR != 0 {
            Kind::Generator
        } else {
            Kind::Plain
        });
    }
    if func.get_type().is(globals(py)?.builtin_type.bind(py)) {
        return Ok(Kind::Plain);
    }
    static INSPECT: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let inspect = INSPECT.get_or_try_init(py, || py.import("inspect").map(Bound::unbind))?;
    let is = |what: &Bound<'_, PyString>| -> PyResult<bool> {
        inspect.bind(py).call_method1(what, (func,))?.is_truthy()
    };
    if is(intern!(py, "iscoroutinefunction"))? {
        Ok(Kind::Coroutine)
    } else if is(intern!(py, "isasyncgenfunction"))? {
        Ok(Kind::AsyncGenerator)
    } else if is(intern!(py, "isgeneratorfunction"))? {
        Ok(Kind::Generator)
    } else {
        Ok(Kind::Plain)
    }
}

/// Whether a function has attributes of its own (a non-empty `__dict__`).
fn has_attributes(func: &Bound<'_, PyAny>) -> PyResult<bool> {
    let dict = func.getattr(intern!(func.py(), "__dict__"))?;
    Ok(dict.cast::<PyDict>().map_or(true, |d| !d.is_empty()))
}

/// `obj.name`, or `None` if it has no such attribute (other errors propagate, as in
/// `functools.wraps`). A missing attribute's AttributeError is cleared at the C level, never
/// made into an exception object: for a builtin, which lacks most of what `wraps` copies,
/// those objects were most of what applying `@profile` cost.
fn attr<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let py = obj.py();
    // SAFETY: live objects and the GIL held; a new reference, or null with an exception set.
    let value = unsafe { pyo3::ffi::PyObject_GetAttr(obj.as_ptr(), name.as_ptr()) };
    if !value.is_null() {
        // SAFETY: a new reference.
        return Ok(Some(unsafe { Bound::from_owned_ptr(py, value) }));
    }
    // SAFETY: an exception is set; matching and clearing it only need the GIL.
    unsafe {
        if pyo3::ffi::PyErr_ExceptionMatches(pyo3::ffi::PyExc_AttributeError) != 0 {
            pyo3::ffi::PyErr_Clear();
            return Ok(None);
        }
    }
    Err(PyErr::fetch(py))
}

/// A `str` attribute of `obj`, if it has one.
fn text<'py>(obj: &Bound<'py, PyAny>, name: &Bound<'py, PyString>) -> Option<Bound<'py, PyString>> {
    attr(obj, name).ok()??.cast_into::<PyString>().ok()
}

/// The callsite of `func` under `name` (default: its `__qualname__`, else `__name__`, else
/// its type's name), with its `__module__` and its code's file and first line where it has
/// code.
pub(crate) fn callsite_of(
    py: Python<'_>,
    func: &Bound<'_, PyAny>,
    name: Option<&str>,
    what: &str,
) -> PyResult<&'static Callsite> {
    let qualname = match name {
        Some(_) => None,
        None => {
            text(func, intern!(py, "__qualname__")).or_else(|| text(func, intern!(py, "__name__")))
        }
    };
    let type_name;
    let name = match (name, &qualname) {
        (Some(n), _) => n,
        (None, Some(q)) => q.to_str()?,
        (None, None) => {
            type_name = func.get_type().name()?.to_string();
            &type_name
        }
    };
    if name.is_empty() {
        return Err(PyValueError::new_err(format!("{what}(name=...) must not be empty")));
    }
    let module = text(func, intern!(py, "__module__"));
    let code = attr(func, intern!(py, "__code__"))?;
    let file = code.as_ref().and_then(|c| text(c, intern!(py, "co_filename")));
    let line = code
        .as_ref()
        .and_then(|c| attr(c, intern!(py, "co_firstlineno")).ok().flatten())
        .and_then(|l| l.extract::<u32>().ok())
        .unwrap_or(0);
    let module = module.as_ref().map(|m| m.to_str()).transpose()?.unwrap_or("");
    let file = file.as_ref().map(|f| f.to_str()).transpose()?.unwrap_or("");
    Ok(Callsite::intern(name, module, file, line))
}

/// How the wrapper of `func` binds as a class attribute: as `func` would (see [`Binding`]).
fn binding_of(py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<Binding> {
    if let Some(inner) = fastcall::unwrap(func) {
        return Ok(inner.binding);
    }
    if is_function(func)? {
        let name = func.getattr(intern!(py, "__name__"))?;
        return Ok(match name.cast::<PyString>()?.to_str()? {
            "__init_subclass__" | "__class_getitem__" => Binding::Class,
            "__new__" => Binding::Never,
            _ => Binding::Instance,
        });
    }
    // SAFETY: a live type object; PyType_GetSlot reads any type's slots from 3.10 on.
    let get = unsafe {
        pyo3::ffi::PyType_GetSlot(func.get_type().as_type_ptr(), pyo3::ffi::Py_tp_descr_get)
    };
    Ok(if get.is_null() { Binding::Never } else { Binding::Instance })
}

/// The wrapper's `__dict__`: what `functools.update_wrapper(wrapper, func)` would leave in
/// it (the `WRAPPER_ASSIGNMENTS`, then `func.__dict__`, then `__wrapped__`), and `func`'s
/// code and defaults. Those make the wrapper "function-like" to `inspect` (as Cython's
/// functions are): `iscoroutinefunction`, `isgeneratorfunction` and `isasyncgenfunction`
/// then answer as for the function on every Python version, so frameworks that ask
/// (FastAPI, Starlette, pytest) await or iterate it correctly.
fn metadata<'py>(py: Python<'py>, func: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for name in globals(py)?.assignments.bind(py) {
        if let Some(value) = attr(func, name.cast::<PyString>()?)? {
            dict.set_item(name, value)?;
        }
    }
    if let Some(own) = attr(func, intern!(py, "__dict__"))? {
        dict.update(own.cast::<pyo3::types::PyMapping>()?)?;
    }
    dict.set_item(intern!(py, "__wrapped__"), func)?;
    for name in
        [intern!(py, "__code__"), intern!(py, "__defaults__"), intern!(py, "__kwdefaults__")]
    {
        if let Some(value) = attr(func, name)? {
            dict.set_item(name, value)?;
        }
    }
    Ok(dict)
}

/// `@profile` applied to `func`, recording into `profiler` under `name` (default: its
/// qualified name).
pub(crate) fn wrap(
    py: Python<'_>,
    profiler: &perfcore::PerformanceProfiler,
    func: &Bound<'_, PyAny>,
    name: Option<&str>,
    errors: &Errors,
) -> PyResult<Py<PyAny>> {
    let g = globals(py)?;
    if !is_function(func)? {
        for class in [&g.classmethod, &g.staticmethod] {
            let class = class.bind(py);
            if func.is_instance(class)? {
                let inner = func.getattr(intern!(py, "__func__"))?;
                let wrapped = wrap(py, profiler, &inner, name, errors)?;
                return Ok(class.call1((wrapped,))?.unbind());
            }
        }
        if !func.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "profile() needs a callable, got {} ({})",
                func.get_type().name()?,
                func.repr()?
            )));
        }
    }
    let callsite = callsite_of(py, func, name, "profile")?;
    let kind = kind_of(py, func)?;
    let state = fastcall::State {
        profiler: profiler.clone(),
        callsite,
        errors: errors.clone_ref(py),
        kind,
        binding: binding_of(py, func)?,
    };
    let dict = metadata(py, func)?;
    if kind == Kind::Coroutine {
        mark_asyncio_coroutine_function(py, &dict)?;
    }
    let wrapper = fastcall::new(py, func, state, dict)?;
    if kind == Kind::Coroutine {
        mark_inspect_coroutine_function(py, &wrapper)?;
    }
    Ok(wrapper.unbind())
}

/// Makes `asyncio.iscoroutinefunction` say yes of the wrapper whose `__dict__` is `dict`:
/// the marker it looks for.
fn mark_asyncio_coroutine_function(py: Python<'_>, dict: &Bound<'_, PyDict>) -> PyResult<()> {
    static MARKER: PyOnceLock<Option<Py<PyAny>>> = PyOnceLock::new();
    let marker = MARKER.get_or_try_init(py, || {
        Ok::<_, PyErr>(
            py.import("asyncio.coroutines")
                .and_then(|m| m.getattr("_is_coroutine"))
                .ok()
                .map(Bound::unbind),
        )
    })?;
    if let Some(marker) = marker {
        dict.set_item(intern!(py, "_is_coroutine"), marker)?;
    }
    Ok(())
}

/// `inspect.markcoroutinefunction(wrapper)` where it exists (3.12+), so that
/// `inspect.iscoroutinefunction` says yes there.
fn mark_inspect_coroutine_function(py: Python<'_>, wrapper: &Bound<'_, PyAny>) -> PyResult<()> {
    static MARK: PyOnceLock<Option<Py<PyAny>>> = PyOnceLock::new();
    let mark = MARK.get_or_try_init(py, || {
        let inspect = py.import("inspect")?;
        Ok::<_, PyErr>(inspect.getattr("markcoroutinefunction").ok().map(Bound::unbind))
    })?;
    if let Some(mark) = mark {
        mark.bind(py).call1((wrapper,))?;
    }
    Ok(())
}
