//! `scope_hierarchy!`: parse ([`ast`], [`attr`]), validate and compute the
//! closure ([`valid`]), then write code ([`expand`]).

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

/// Expands a parsed declaration. Every mistake found by validation is
/// reported, and the code generated from the rest of the declaration is
/// still emitted, so one typo does not cause a wave of follow-on errors.
pub(crate) fn expand(input: ast::Input) -> TokenStream {
    let cx = Ctxt::new();
    let model = valid::Model::build(&cx, &input);
    let mut out = expand::expand(&model);
    if let Err(errors) = cx.check() {
        out.extend(errors.into_compile_error());
    }
    out
}
