expectDetail('Email already registered');
