"""2D-Doc, the signed DataMatrix of French bills, tax notices and ANTS letters: `decode` finds and
decodes the codes on a page, `parse` reads their fields (and holds the one table of document types),
`verify` checks their signatures against the trust store."""
