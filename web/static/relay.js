// Post the identity provider's answer again from our own page, so the session cookie goes along.
document.getElementById("relay").submit();
