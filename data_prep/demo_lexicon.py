"""Vocabulary of the synthetic English-to-German demo language pair.

Real words with their real German genders and plurals, so that a model has to learn
agreement. Weak masculine nouns (der Junge, den Jungen) and adjectives that drop an
'e' when declined (teuer, teure) are left out to keep the grammar small and exact.
"""

# (English singular, English plural, German singular, German plural)
MASCULINE = [
    ("dog", "dogs", "Hund", "Hunde"), ("man", "men", "Mann", "Männer"),
    ("father", "fathers", "Vater", "Väter"), ("brother", "brothers", "Bruder", "Brüder"),
    ("teacher", "teachers", "Lehrer", "Lehrer"), ("doctor", "doctors", "Arzt", "Ärzte"),
    ("cook", "cooks", "Koch", "Köche"), ("friend", "friends", "Freund", "Freunde"),
    ("uncle", "uncles", "Onkel", "Onkel"), ("king", "kings", "König", "Könige"),
    ("baker", "bakers", "Bäcker", "Bäcker"), ("fisherman", "fishermen", "Fischer", "Fischer"),
    ("bird", "birds", "Vogel", "Vögel"), ("fish", "fish", "Fisch", "Fische"),
    ("table", "tables", "Tisch", "Tische"), ("chair", "chairs", "Stuhl", "Stühle"),
    ("tree", "trees", "Baum", "Bäume"), ("ball", "balls", "Ball", "Bälle"),
    ("hat", "hats", "Hut", "Hüte"), ("shoe", "shoes", "Schuh", "Schuhe"),
    ("apple", "apples", "Apfel", "Äpfel"), ("cake", "cakes", "Kuchen", "Kuchen"),
    ("letter", "letters", "Brief", "Briefe"), ("key", "keys", "Schlüssel", "Schlüssel"),
    ("plate", "plates", "Teller", "Teller"), ("spoon", "spoons", "Löffel", "Löffel"),
    ("train", "trains", "Zug", "Züge"), ("stone", "stones", "Stein", "Steine"),
    ("mountain", "mountains", "Berg", "Berge"), ("river", "rivers", "Fluss", "Flüsse"),
    ("garden", "gardens", "Garten", "Gärten"), ("computer", "computers", "Computer", "Computer"),
    ("cupboard", "cupboards", "Schrank", "Schränke"), ("carpet", "carpets", "Teppich", "Teppiche"),
    ("coat", "coats", "Mantel", "Mäntel"), ("mug", "mugs", "Becher", "Becher"),
    ("pot", "pots", "Topf", "Töpfe"), ("mirror", "mirrors", "Spiegel", "Spiegel"),
    ("basket", "baskets", "Korb", "Körbe"), ("bus", "buses", "Bus", "Busse"),
    ("hammer", "hammers", "Hammer", "Hämmer"), ("brush", "brushes", "Pinsel", "Pinsel"),
    ("comb", "combs", "Kamm", "Kämme"), ("ring", "rings", "Ring", "Ringe"),
    ("belt", "belts", "Gürtel", "Gürtel"), ("glove", "gloves", "Handschuh", "Handschuhe"),
    ("umbrella", "umbrellas", "Regenschirm", "Regenschirme"),
    ("suitcase", "suitcases", "Koffer", "Koffer"), ("backpack", "backpacks", "Rucksack", "Rucksäcke"),
    ("pencil", "pencils", "Bleistift", "Bleistifte"), ("tiger", "tigers", "Tiger", "Tiger"),
    ("wolf", "wolves", "Wolf", "Wölfe"), ("fox", "foxes", "Fuchs", "Füchse"),
    ("donkey", "donkeys", "Esel", "Esel"), ("frog", "frogs", "Frosch", "Frösche"),
    ("beetle", "beetles", "Käfer", "Käfer"), ("butterfly", "butterflies", "Schmetterling", "Schmetterlinge"),
    ("mushroom", "mushrooms", "Pilz", "Pilze"), ("singer", "singers", "Sänger", "Sänger"),
    ("painter", "painters", "Maler", "Maler"), ("driver", "drivers", "Fahrer", "Fahrer"),
    ("pupil", "pupils", "Schüler", "Schüler"), ("waiter", "waiters", "Kellner", "Kellner"),
    ("mayor", "mayors", "Bürgermeister", "Bürgermeister"),
    ("grandfather", "grandfathers", "Großvater", "Großväter"), ("son", "sons", "Sohn", "Söhne"),
    ("guest", "guests", "Gast", "Gäste"), ("thief", "thieves", "Dieb", "Diebe"),
    ("knight", "knights", "Ritter", "Ritter"), ("park", "parks", "Park", "Parks"),
    ("forest", "forests", "Wald", "Wälder"),
]

FEMININE = [
    ("woman", "women", "Frau", "Frauen"), ("mother", "mothers", "Mutter", "Mütter"),
    ("sister", "sisters", "Schwester", "Schwestern"), ("daughter", "daughters", "Tochter", "Töchter"),
    ("aunt", "aunts", "Tante", "Tanten"), ("queen", "queens", "Königin", "Königinnen"),
    ("cat", "cats", "Katze", "Katzen"), ("mouse", "mice", "Maus", "Mäuse"),
    ("cow", "cows", "Kuh", "Kühe"), ("duck", "ducks", "Ente", "Enten"),
    ("goat", "goats", "Ziege", "Ziegen"), ("bee", "bees", "Biene", "Bienen"),
    ("snake", "snakes", "Schlange", "Schlangen"), ("flower", "flowers", "Blume", "Blumen"),
    ("bag", "bags", "Tasche", "Taschen"), ("lamp", "lamps", "Lampe", "Lampen"),
    ("door", "doors", "Tür", "Türen"), ("clock", "clocks", "Uhr", "Uhren"),
    ("cup", "cups", "Tasse", "Tassen"), ("bottle", "bottles", "Flasche", "Flaschen"),
    ("fork", "forks", "Gabel", "Gabeln"), ("candle", "candles", "Kerze", "Kerzen"),
    ("bridge", "bridges", "Brücke", "Brücken"), ("street", "streets", "Straße", "Straßen"),
    ("city", "cities", "Stadt", "Städte"), ("church", "churches", "Kirche", "Kirchen"),
    ("school", "schools", "Schule", "Schulen"), ("map", "maps", "Karte", "Karten"),
    ("newspaper", "newspapers", "Zeitung", "Zeitungen"), ("jacket", "jackets", "Jacke", "Jacken"),
    ("banana", "bananas", "Banane", "Bananen"), ("pear", "pears", "Birne", "Birnen"),
    ("cherry", "cherries", "Kirsche", "Kirschen"), ("tomato", "tomatoes", "Tomate", "Tomaten"),
    ("potato", "potatoes", "Kartoffel", "Kartoffeln"), ("soup", "soups", "Suppe", "Suppen"),
    ("plant", "plants", "Pflanze", "Pflanzen"), ("island", "islands", "Insel", "Inseln"),
    ("wall", "walls", "Wand", "Wände"), ("blanket", "blankets", "Decke", "Decken"),
    ("box", "boxes", "Kiste", "Kisten"), ("doll", "dolls", "Puppe", "Puppen"),
    ("violin", "violins", "Geige", "Geigen"), ("drum", "drums", "Trommel", "Trommeln"),
    ("guitar", "guitars", "Gitarre", "Gitarren"), ("grandmother", "grandmothers", "Großmutter", "Großmütter"),
    ("princess", "princesses", "Prinzessin", "Prinzessinnen"), ("witch", "witches", "Hexe", "Hexen"),
    ("owl", "owls", "Eule", "Eulen"), ("shell", "shells", "Muschel", "Muscheln"),
    ("feather", "feathers", "Feder", "Federn"), ("coin", "coins", "Münze", "Münzen"),
    ("necklace", "necklaces", "Kette", "Ketten"), ("ladder", "ladders", "Leiter", "Leitern"),
    ("shovel", "shovels", "Schaufel", "Schaufeln"), ("pan", "pans", "Pfanne", "Pfannen"),
    ("vase", "vases", "Vase", "Vasen"), ("kitchen", "kitchens", "Küche", "Küchen"),
]

NEUTER = [
    ("child", "children", "Kind", "Kinder"), ("girl", "girls", "Mädchen", "Mädchen"),
    ("baby", "babies", "Baby", "Babys"), ("horse", "horses", "Pferd", "Pferde"),
    ("sheep", "sheep", "Schaf", "Schafe"), ("pig", "pigs", "Schwein", "Schweine"),
    ("rabbit", "rabbits", "Kaninchen", "Kaninchen"), ("chicken", "chickens", "Huhn", "Hühner"),
    ("car", "cars", "Auto", "Autos"), ("bicycle", "bicycles", "Fahrrad", "Fahrräder"),
    ("boat", "boats", "Boot", "Boote"), ("ship", "ships", "Schiff", "Schiffe"),
    ("airplane", "airplanes", "Flugzeug", "Flugzeuge"), ("house", "houses", "Haus", "Häuser"),
    ("book", "books", "Buch", "Bücher"), ("picture", "pictures", "Bild", "Bilder"),
    ("window", "windows", "Fenster", "Fenster"), ("bed", "beds", "Bett", "Betten"),
    ("glass", "glasses", "Glas", "Gläser"), ("knife", "knives", "Messer", "Messer"),
    ("egg", "eggs", "Ei", "Eier"), ("bread", "breads", "Brot", "Brote"),
    ("shirt", "shirts", "Hemd", "Hemden"), ("dress", "dresses", "Kleid", "Kleider"),
    ("game", "games", "Spiel", "Spiele"), ("song", "songs", "Lied", "Lieder"),
    ("gift", "gifts", "Geschenk", "Geschenke"), ("notebook", "notebooks", "Heft", "Hefte"),
    ("telephone", "telephones", "Telefon", "Telefone"), ("radio", "radios", "Radio", "Radios"),
    ("sofa", "sofas", "Sofa", "Sofas"), ("pillow", "pillows", "Kissen", "Kissen"),
    ("tent", "tents", "Zelt", "Zelte"), ("village", "villages", "Dorf", "Dörfer"),
    ("castle", "castles", "Schloss", "Schlösser"), ("theatre", "theatres", "Theater", "Theater"),
    ("hotel", "hotels", "Hotel", "Hotels"), ("restaurant", "restaurants", "Restaurant", "Restaurants"),
    ("parcel", "parcels", "Paket", "Pakete"), ("photo", "photos", "Foto", "Fotos"),
    ("piano", "pianos", "Klavier", "Klaviere"), ("toy", "toys", "Spielzeug", "Spielzeuge"),
    ("rope", "ropes", "Seil", "Seile"), ("net", "nets", "Netz", "Netze"),
    ("nest", "nests", "Nest", "Nester"), ("leaf", "leaves", "Blatt", "Blätter"),
    ("camel", "camels", "Kamel", "Kamele"), ("zebra", "zebras", "Zebra", "Zebras"),
    ("crocodile", "crocodiles", "Krokodil", "Krokodile"),
    ("squirrel", "squirrels", "Eichhörnchen", "Eichhörnchen"), ("lamb", "lambs", "Lamm", "Lämmer"),
    ("insect", "insects", "Insekt", "Insekten"),
]

# Nouns that can follow "in the" as a place (German dative: im / in der).
PLACES = {"park", "garden", "forest", "city", "kitchen", "school", "church", "house",
          "village", "hotel", "restaurant", "theatre", "tent", "castle"}

# (English, German stem): German adds the declension ending to the stem, and a stem's
# final -e (müde, leise) serves as the ending's own e: müden, müder, leises, der müde Fisch.
ADJECTIVES = [
    ("small", "klein"), ("big", "groß"), ("old", "alt"), ("young", "jung"), ("new", "neu"),
    ("red", "rot"), ("blue", "blau"), ("green", "grün"), ("yellow", "gelb"),
    ("black", "schwarz"), ("white", "weiß"), ("brown", "braun"), ("happy", "glücklich"),
    ("sad", "traurig"), ("tired", "müde"), ("hungry", "hungrig"), ("beautiful", "schön"),
    ("ugly", "hässlich"), ("fast", "schnell"), ("slow", "langsam"), ("loud", "laut"),
    ("quiet", "leise"), ("clever", "klug"), ("funny", "lustig"), ("friendly", "freundlich"),
    ("angry", "wütend"), ("rich", "reich"), ("poor", "arm"), ("strong", "stark"),
    ("weak", "schwach"), ("warm", "warm"), ("cold", "kalt"), ("clean", "sauber"),
    ("dirty", "schmutzig"), ("heavy", "schwer"), ("cheap", "billig"), ("long", "lang"),
    ("short", "kurz"), ("wet", "nass"), ("dry", "trocken"), ("empty", "leer"),
    ("famous", "berühmt"), ("lazy", "faul"), ("brave", "mutig"), ("curious", "neugierig"),
    ("proud", "stolz"), ("shy", "schüchtern"), ("wild", "wild"), ("gentle", "sanft"),
    ("sick", "krank"), ("healthy", "gesund"), ("polite", "höflich"), ("strange", "seltsam"),
    ("round", "rund"), ("soft", "weich"), ("sweet", "süß"), ("fresh", "frisch"),
]

# (English plural form, English 3rd singular, German 3rd singular, German 3rd plural)
VERBS = [
    ("see", "sees", "sieht", "sehen"), ("buy", "buys", "kauft", "kaufen"),
    ("find", "finds", "findet", "finden"), ("carry", "carries", "trägt", "tragen"),
    ("hold", "holds", "hält", "halten"), ("paint", "paints", "malt", "malen"),
    ("draw", "draws", "zeichnet", "zeichnen"), ("wash", "washes", "wäscht", "waschen"),
    ("visit", "visits", "besucht", "besuchen"), ("like", "likes", "mag", "mögen"),
    ("love", "loves", "liebt", "lieben"), ("hate", "hates", "hasst", "hassen"),
    ("need", "needs", "braucht", "brauchen"), ("sell", "sells", "verkauft", "verkaufen"),
    ("build", "builds", "baut", "bauen"), ("open", "opens", "öffnet", "öffnen"),
    ("clean", "cleans", "putzt", "putzen"), ("catch", "catches", "fängt", "fangen"),
    ("throw", "throws", "wirft", "werfen"), ("hide", "hides", "versteckt", "verstecken"),
    ("look for", "looks for", "sucht", "suchen"), ("bring", "brings", "bringt", "bringen"),
    ("fetch", "fetches", "holt", "holen"), ("take", "takes", "nimmt", "nehmen"),
    ("watch", "watches", "beobachtet", "beobachten"), ("feed", "feeds", "füttert", "füttern"),
    ("hug", "hugs", "umarmt", "umarmen"), ("kiss", "kisses", "küsst", "küssen"),
    ("push", "pushes", "schiebt", "schieben"), ("pull", "pulls", "zieht", "ziehen"),
    ("lift", "lifts", "hebt", "heben"), ("hear", "hears", "hört", "hören"),
    ("smell", "smells", "riecht", "riechen"), ("touch", "touches", "berührt", "berühren"),
    ("count", "counts", "zählt", "zählen"), ("greet", "greets", "begrüßt", "begrüßen"),
    ("ask", "asks", "fragt", "fragen"), ("call", "calls", "ruft", "rufen"),
    ("forget", "forgets", "vergisst", "vergessen"), ("choose", "chooses", "wählt", "wählen"),
    ("repair", "repairs", "repariert", "reparieren"), ("cook", "cooks", "kocht", "kochen"),
    ("bake", "bakes", "backt", "backen"), ("eat", "eats", "isst", "essen"),
    ("read", "reads", "liest", "lesen"), ("write", "writes", "schreibt", "schreiben"),
    ("steal", "steals", "stiehlt", "stehlen"), ("lose", "loses", "verliert", "verlieren"),
    ("order", "orders", "bestellt", "bestellen"), ("photograph", "photographs", "fotografiert", "fotografieren"),
]

# Fronted adverbials: German puts the verb second after them (inversion).
TIME_ADVERBS = [
    ("Today", "Heute"), ("Now", "Jetzt"), ("Often", "Oft"), ("Tomorrow", "Morgen"),
    ("Sometimes", "Manchmal"), ("Every day", "Jeden Tag"), ("In the morning", "Am Morgen"),
    ("In the evening", "Am Abend"), ("At night", "In der Nacht"), ("On Monday", "Am Montag"),
    ("On Tuesday", "Am Dienstag"), ("On Wednesday", "Am Mittwoch"), ("On Thursday", "Am Donnerstag"),
    ("On Friday", "Am Freitag"), ("On Saturday", "Am Samstag"), ("On Sunday", "Am Sonntag"),
]

# Subordinating conjunctions: German sends the finite verb to the end of the clause.
CONJUNCTIONS = [("because", "weil"), ("although", "obwohl"), ("while", "während"), ("if", "wenn")]

NUMBERS = [("two", "zwei"), ("three", "drei"), ("four", "vier"), ("five", "fünf"), ("many", "viele")]
