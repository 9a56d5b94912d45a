expectDetail('Username already registered');
